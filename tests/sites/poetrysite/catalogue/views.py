from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Product


@login_required
def home(request):
    featured = Product.objects.filter(featured=True)
    return render(request, 'catalogue/home.html', {'featured': featured})
