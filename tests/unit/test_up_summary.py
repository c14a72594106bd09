"""`lab up`'s closing summary: where the demo user logs in, or that no password form was found. No Docker."""

from types import SimpleNamespace

from lab.cli.commands import print_up

REPORT = {"name": "t", "url": "http://127.0.0.1:8080/", "nodes": 3, "backend": "redis", "balance": "round_robin",
          "username": "demo", "password": "pw", "login_url": "http://127.0.0.1:8080/accounts/login/", "ca": None}


def test_the_login_page_found_is_where_the_demo_user_logs_in(capsys):
    print_up(SimpleNamespace(status=lambda: {**REPORT, "login_found": True}), 12.0)
    assert "  log in   demo / pw at http://127.0.0.1:8080/accounts/login/\n" in capsys.readouterr().out


def test_an_api_without_a_password_form_is_not_given_a_login_page(capsys):
    print_up(SimpleNamespace(status=lambda: {**REPORT, "login_found": False}), 12.0)
    out = capsys.readouterr().out
    assert "accounts/login/" not in out
    assert ("  log in   no password form found (an API, or a login elsewhere); the demo user is demo / pw: "
            "`lab up --login-url PATH` names its page\n") in out


def test_the_switch_it_suggests_is_to_a_backend_the_lab_does_not_run(capsys):
    print_up(SimpleNamespace(status=lambda: {**REPORT, "login_found": True}), 12.0)
    assert "  switch   lab switch --backend memcached" in capsys.readouterr().out
    print_up(SimpleNamespace(status=lambda: {**REPORT, "backend": "memcached", "login_found": True}), 12.0)
    assert "  switch   lab switch --backend redis" in capsys.readouterr().out
