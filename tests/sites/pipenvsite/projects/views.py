from django.core.cache import cache
from rest_framework import viewsets

from api.context_processors import MENU_CACHE_KEY

from .models import Project
from .serializers import ProjectSerializer


class ProjectViewSet(viewsets.ModelViewSet):
    queryset = Project.objects.select_related("owner")
    serializer_class = ProjectSerializer
    lookup_field = "slug"

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)
        cache.delete(MENU_CACHE_KEY)

    def perform_update(self, serializer):
        serializer.save()
        cache.delete(MENU_CACHE_KEY)

    def perform_destroy(self, instance):
        instance.delete()
        cache.delete(MENU_CACHE_KEY)
