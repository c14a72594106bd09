"""Code that takes REMOTE_ADDR for the client's address, told from code that reads the balancer's header first
and from tests. No Docker."""

from lab.project.site import client_address_readers

from .projects import make


def test_a_fallback_after_a_forwarding_header_and_a_precedence_list_are_no_readers(tmp_path):
    site = make(tmp_path, {
        "manage.py": "", "app/__init__.py": "",
        "app/ip.py": ('def get_client_ip(request):\n    x_forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")\n'
                      '    if x_forwarded_for:\n        ip = x_forwarded_for.split(",")[0]\n    else:\n'
                      '        ip = request.META.get("REMOTE_ADDR")\n    return ip\n'),
        "app/settings.py": ("IPWARE_META_PRECEDENCE_ORDER = (\n    'HTTP_X_FORWARDED_FOR', 'X_FORWARDED_FOR',\n"
                            "    'HTTP_CLIENT_IP',\n    'REMOTE_ADDR',\n)\n"),
        "app/views.py": "def hello(request):\n    return request.META['REMOTE_ADDR']\n",
        "app/tests/test_request.py": "def test(request):\n    request.META.pop('REMOTE_ADDR', None)\n",
        "app/test_views.py": "META = {'REMOTE_ADDR': '1.2.3.4'}\n",
    })
    assert [str(hit) for hit in client_address_readers(site)] == ["app/views.py:2: return request.META['REMOTE_ADDR']"]
