from django.db import models
from django.utils.translation import gettext_lazy as _


class Product(models.Model):
    sku = models.CharField(_('SKU'), max_length=32, unique=True)
    name = models.CharField(_('name'), max_length=200)
    price = models.DecimalField(_('price'), max_digits=8, decimal_places=2)
    featured = models.BooleanField(_('featured'), default=False)

    class Meta:
        ordering = ['name']
        verbose_name = _('product')
        verbose_name_plural = _('products')

    def __str__(self):
        return self.name
