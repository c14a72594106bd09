import crossplane
import pytest

from lab import BALANCE_MODES
from lab.model.nginx_conf import config_id, render

SERVERS = ["lab-node-1:8000", "lab-node-2:8000", "lab-node-3:8000"]
EXPECTED_UPSTREAM = {
    "round_robin": [],
    "least_conn": [["least_conn"]],
    "ip_hash": [["ip_hash"]],
    "cookie_hash": [["hash", "$cookie_sessionid", "consistent"]],
    "sticky": [["sticky", "cookie", "lab_node", "path=/", "httponly"]],
}


def parsed(text, tmp_path):
    path = tmp_path / "nginx.conf"
    path.write_text(text)
    payload = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False)
    assert payload["errors"] == []
    return payload["config"][0]["parsed"]


def find(directives, name):
    return [d for d in directives if d["directive"] == name]


@pytest.mark.parametrize("mode", list(BALANCE_MODES))
def test_upstream_per_mode(mode, tmp_path):
    http = find(parsed(render(SERVERS, BALANCE_MODES[mode]), tmp_path), "http")[0]["block"]
    upstream = find(http, "upstream")[0]["block"]
    balancing = [[d["directive"], *d["args"]] for d in upstream if d["directive"] not in ("server", "zone")]
    assert balancing == EXPECTED_UPSTREAM[mode]
    assert [d["args"][0] for d in find(upstream, "server")] == SERVERS


def test_forwards_the_client_address_and_names_the_config(tmp_path):
    http = find(parsed(render(SERVERS, BALANCE_MODES["ip_hash"]), tmp_path), "http")[0]["block"]
    server = find(http, "server")[0]["block"]
    location = [d for d in find(server, "location") if d["args"] == ["/"]][0]["block"]
    headers = {tuple(d["args"][:2]) for d in find(location, "proxy_set_header")}
    assert ("X-Forwarded-For", "$proxy_add_x_forwarded_for") in headers
    assert ("X-Real-IP", "$remote_addr") in headers
    added = {d["args"][0]: d["args"][1] for d in find(location, "add_header")}
    assert added["X-Lab-Balance"] == "ip_hash"
    assert added["X-Lab-Config"] == config_id(SERVERS, BALANCE_MODES["ip_hash"])


def test_config_id_changes_with_mode_and_nodes():
    ids = {config_id(SERVERS, mode) for mode in BALANCE_MODES.values()}
    ids.add(config_id(SERVERS[:2], BALANCE_MODES["round_robin"]))
    assert len(ids) == len(BALANCE_MODES) + 1


def test_log_format_with_spaces_is_quoted(tmp_path):
    text = render(SERVERS, BALANCE_MODES["round_robin"])
    http = find(parsed(text, tmp_path), "http")[0]["block"]
    assert find(http, "log_format")[0]["args"][0] == "lab"
    assert "upstream=$upstream_addr" in find(http, "log_format")[0]["args"][1]


def test_no_servers_is_an_error():
    with pytest.raises(ValueError):
        render([], BALANCE_MODES["round_robin"])


def test_nodes_are_re_resolved_and_named_for_sticky_routes(tmp_path):
    http = find(parsed(render(SERVERS, BALANCE_MODES["sticky"]), tmp_path), "http")[0]["block"]
    assert find(http, "resolver")[0]["args"][0] == "127.0.0.11"
    upstream = find(http, "upstream")[0]["block"]
    assert find(upstream, "zone")
    first = find(upstream, "server")[0]["args"]
    assert "resolve" in first and "route=node-1" in first


def test_sticky_routes_stay_within_nginx_limit_for_the_longest_lab_name():
    from lab.model.nginx_conf import route

    longest = "l" * 31
    assert route(f"{longest}-node-16:8000") == "node-16"
    conf = render([f"{longest}-node-{i}:8000" for i in (1, 2)], BALANCE_MODES["sticky"])
    assert "route=node-1 " in conf and "route=node-2 " in conf


def test_tls_for_a_site_that_needs_https_and_its_renamed_session_cookie(tmp_path):
    from lab.model.nginx_conf import Frontend

    frontend = Frontend("/static/", tls=True, session_cookie="__Secure-sessionid")
    http = find(parsed(render(SERVERS, BALANCE_MODES["cookie_hash"], frontend), tmp_path), "http")[0]["block"]
    server = find(http, "server")[0]["block"]
    assert find(server, "listen")[0]["args"] == ["443", "ssl"]
    assert find(server, "ssl_certificate")[0]["args"] == ["/etc/nginx/lab-tls/cert.pem"]
    assert find(server, "error_page")[0]["args"][0] == "497"  # plain http on the port is sent to https
    # nginx's $cookie_ variables cannot name "__Secure-sessionid": a map reads it for cookie_hash.
    mapped = find(http, "map")[0]
    assert mapped["args"] == ["$http_cookie", "$lab_session_cookie"]
    upstream = find(http, "upstream")[0]["block"]
    assert find(upstream, "hash")[0]["args"] == ["$lab_session_cookie", "consistent"]
    assert config_id(SERVERS, BALANCE_MODES["cookie_hash"], frontend) != config_id(
        SERVERS, BALANCE_MODES["cookie_hash"], Frontend("/static/")
    )


def test_an_asgi_site_gets_websocket_upgrades_and_a_long_idle_timeout_and_others_do_not():
    from lab.model.balance import BALANCE_MODES
    from lab.model.nginx_conf import Frontend, render

    plain = render(["t-node-1:8000"], BALANCE_MODES["round_robin"], Frontend())
    assert "Upgrade" not in plain and "proxy_read_timeout 15s" in plain
    asgi = render(["t-node-1:8000"], BALANCE_MODES["round_robin"], Frontend(websockets=True))
    assert "proxy_set_header Upgrade $http_upgrade" in asgi and "proxy_set_header Connection $connection_upgrade" in asgi
    assert "proxy_http_version 1.1" in asgi and "proxy_read_timeout 300s" in asgi and "15s" not in asgi
    assert "map $http_upgrade $connection_upgrade" in asgi


def test_static_files_come_from_the_current_versions_folder_then_the_kept_ones():
    from lab.model.balance import BALANCE_MODES
    from lab.model.nginx_conf import Frontend, render

    one = render(["t-node-1:8000"], BALANCE_MODES["round_robin"], Frontend("/static/", static_versions=("v2",)))
    assert "location ~ '^/static/(?<lab_static>.*)$'" in one and "try_files /v2/$lab_static =404;" in one
    both = render(["t-node-1:8000"], BALANCE_MODES["round_robin"], Frontend("/static/", static_versions=("v2", "v1")))
    assert "try_files /v2/$lab_static /v1/$lab_static =404;" in both
