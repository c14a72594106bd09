from rest_framework import serializers

from .models import Project


class ProjectSerializer(serializers.HyperlinkedModelSerializer):
    owner = serializers.ReadOnlyField(source="owner.username")

    class Meta:
        model = Project
        fields = ["url", "name", "slug", "description", "repository", "owner", "created", "updated"]
        extra_kwargs = {"url": {"lookup_field": "slug"}}
