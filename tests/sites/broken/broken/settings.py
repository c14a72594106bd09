"""Never imported: the site's requirements fail to build before any node starts."""
