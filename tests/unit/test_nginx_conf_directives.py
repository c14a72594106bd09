"""nginx's configuration, directive by directive: what each part of the balancer promises (lab.model.nginx_conf).

Every configuration is parsed back with crossplane, checking directive names, contexts and argument counts
as nginx would, so a misspelt or misplaced directive fails here and not only under `nginx -t` in a container.
"""

import re

import crossplane
import pytest

from lab.model.balance import BALANCE_MODES
from lab.model.nginx_conf import Frontend, config_id, render, route, session_map, session_variable

SERVERS = ["lab-node-1:8000", "lab-node-2:8000", "lab-node-3:8000"]
ROUND_ROBIN = BALANCE_MODES["round_robin"]


def parsed(text, tmp_path):
    """The configuration as nginx reads it, every directive checked for its name, context and arguments."""
    path = tmp_path / "nginx.conf"
    path.write_text(text)
    payload = crossplane.parse(str(path), single=True, comments=False, strict=True)
    assert payload["errors"] == [], payload["errors"]
    return payload["config"][0]["parsed"]


def find(directives, name):
    return [d for d in directives if d["directive"] == name]


def args(directives, name):
    """The argument lists of every `name` directive."""
    return [d["args"] for d in find(directives, name)]


def http_of(text, tmp_path):
    return find(parsed(text, tmp_path), "http")[0]["block"]


def server_of(text, tmp_path):
    return find(http_of(text, tmp_path), "server")[0]["block"]


def location(server, *location_args):
    return [d for d in find(server, "location") if d["args"] == list(location_args)][0]["block"]


def lab_headers(block):
    return {a[0]: a[1:] for a in args(block, "add_header")}


@pytest.mark.parametrize("mode", list(BALANCE_MODES))
@pytest.mark.parametrize(
    "frontend",
    [
        Frontend(),
        Frontend("/static/"),
        Frontend("/static/", tls=True, websockets=True, session_cookie="__Secure-sessionid", static_versions=("v2", "v1")),
    ],
    ids=["plain", "static", "everything"],
)
def test_every_mode_and_frontend_renders_directives_nginx_knows_where_it_takes_them(mode, frontend, tmp_path):
    parsed(render(SERVERS, BALANCE_MODES[mode], frontend, drained=[SERVERS[1]]), tmp_path)


def test_the_main_context_runs_a_worker_per_core_logs_to_the_containers_streams_and_keeps_its_pid_for_reloads(tmp_path):
    main = parsed(render(SERVERS, ROUND_ROBIN), tmp_path)
    assert args(main, "worker_processes") == [["auto"]]
    assert args(main, "pid") == [["/run/nginx.pid"]]
    assert args(main, "error_log") == [["/dev/stderr", "warn"]]
    assert args(find(main, "events")[0]["block"], "worker_connections") == [["1024"]]
    http = find(main, "http")[0]["block"]
    assert args(http, "access_log") == [["/dev/stdout", "lab"]]


def test_static_files_go_out_with_their_types_and_nginx_names_no_version(tmp_path):
    http = http_of(render(SERVERS, ROUND_ROBIN, Frontend("/static/")), tmp_path)
    assert args(http, "include") == [["/etc/nginx/mime.types"]]
    assert args(http, "default_type") == [["application/octet-stream"]]
    assert args(http, "server_tokens") == [["off"]]


def test_the_access_log_says_which_upstream_answered_and_which_node_it_said_it_was(tmp_path):
    http = http_of(render(SERVERS, ROUND_ROBIN), tmp_path)
    [(name, line)] = args(http, "log_format")
    assert name == "lab"
    for field in ("$remote_addr", '"$request"', "$status", "upstream=$upstream_addr", "node=$upstream_http_x_lab_node",
                  "time=$request_time"):
        assert field in line.split(), field


def test_node_names_are_resolved_by_dockers_dns_again_every_second(tmp_path):
    http = http_of(render(SERVERS, ROUND_ROBIN), tmp_path)
    assert args(http, "resolver") == [["127.0.0.11", "valid=1s", "ipv6=off"]]
    assert args(http, "resolver_timeout") == [["2s"]]


# -- the upstream ----------------------------------------------------------------------------------------


def test_each_node_is_a_re_resolved_server_named_by_its_route_and_skipped_five_seconds_after_a_failure(tmp_path):
    upstream = find(http_of(render(SERVERS, ROUND_ROBIN), tmp_path), "upstream")[0]
    assert upstream["args"] == ["django_nodes"]
    assert args(upstream["block"], "zone") == [["django_nodes", "256k"]]  # `resolve` needs a shared zone
    assert args(upstream["block"], "server") == [
        [server, "resolve", f"route=node-{i}", "max_fails=1", "fail_timeout=5s"] for i, server in enumerate(SERVERS, 1)
    ]


def test_a_drained_node_is_marked_down_and_keeps_its_place_among_the_others(tmp_path):
    upstream = find(http_of(render(SERVERS, ROUND_ROBIN, drained=[SERVERS[1]]), tmp_path), "upstream")[0]["block"]
    servers = args(upstream, "server")
    assert [line[0] for line in servers] == SERVERS
    assert [line[-1] == "down" for line in servers] == [False, True, False]
    assert servers[1] == [SERVERS[1], "resolve", "route=node-2", "max_fails=1", "fail_timeout=5s", "down"]


@pytest.mark.parametrize("mode", list(BALANCE_MODES))
def test_the_balancing_directives_come_after_the_zone_and_before_the_servers(mode, tmp_path):
    upstream = find(http_of(render(SERVERS, BALANCE_MODES[mode]), tmp_path), "upstream")[0]["block"]
    names = [d["directive"] for d in upstream]
    balancing = [name for name in names if name not in ("zone", "server")]
    assert names == ["zone", *balancing, *["server"] * len(SERVERS)]


def test_the_sticky_route_is_the_nodes_short_name_within_nginxs_32_characters():
    assert route("lab-node-2:8000") == "node-2"
    assert route("my-lab-node-12:8000") == "node-12"
    assert route("a-node-lab-node-3:8000") == "node-3"  # the last "-node-" names the node
    long_host = "h" * 20 + "-other-" + "k" * 20
    assert route(long_host + ":8000") == long_host[-32:] and len(route(long_host + ":8000")) == 32
    assert route("web:8000") == "web"


# -- the session cookie ----------------------------------------------------------------------------------


def test_a_session_cookie_nginx_can_spell_is_read_from_its_own_variable_without_a_map():
    assert session_variable("sessionid") == "$cookie_sessionid"
    assert session_variable("my_session2") == "$cookie_my_session2"
    assert session_map("sessionid") == []


@pytest.mark.parametrize("cookie", ["__Secure-sessionid", "session.id", "a-b"])
def test_a_session_cookie_nginx_cannot_spell_is_read_by_a_map(cookie):
    assert session_variable(cookie) == "$lab_session_cookie"
    [mapped] = session_map(cookie)
    assert mapped["directive"] == "map" and mapped["args"] == ["$http_cookie", "$lab_session_cookie"]


def map_value(mapped: dict, header: str) -> str:
    """What nginx's map gives for a Cookie header: the first regex that matches (its $1), else the default."""
    entries = {d["directive"]: d["args"][0] for d in mapped["block"]}
    default = entries.pop("default")
    for pattern, value in entries.items():
        assert pattern.startswith("~")  # a case-sensitive regex, nginx's PCRE reads these as Python does
        found = re.search(pattern[1:], header)
        if found:
            return re.sub(r"\$(\d)", lambda m: found.group(int(m.group(1))), value)
    return default


def test_the_map_reads_the_renamed_cookies_value_wherever_it_is_in_the_cookie_header():
    [mapped] = session_map("__Secure-sessionid")
    assert map_value(mapped, "__Secure-sessionid=abc123") == "abc123"
    assert map_value(mapped, "csrftoken=x; __Secure-sessionid=abc123; theme=dark") == "abc123"
    assert map_value(mapped, "csrftoken=x;__Secure-sessionid=abc123") == "abc123"


def test_the_map_reads_no_other_cookie_that_merely_ends_or_starts_like_it():
    [mapped] = session_map("__Secure-sessionid")
    assert map_value(mapped, "x__Secure-sessionid=other; theme=dark") == ""
    assert map_value(mapped, "__Secure-sessionid2=other") == ""
    [dotted] = session_map("session.id")
    assert map_value(dotted, "sessionXid=other") == ""  # the name's '.' is a dot, not any character


def test_without_the_cookie_the_maps_variable_is_empty_as_nginxs_cookie_variables_are(tmp_path):
    """An empty hash key is what $cookie_sessionid gives a visitor with no session: the map gives the same."""
    text = render(SERVERS, BALANCE_MODES["cookie_hash"], Frontend(session_cookie="__Secure-sessionid"))
    mapped = find(http_of(text, tmp_path), "map")[0]
    assert map_value(mapped, "") == ""
    assert map_value(mapped, "theme=dark") == ""


def test_cookie_hash_keys_on_the_sites_session_cookie(tmp_path):
    plain = find(http_of(render(SERVERS, BALANCE_MODES["cookie_hash"]), tmp_path), "upstream")[0]["block"]
    assert args(plain, "hash") == [["$cookie_sessionid", "consistent"]]
    renamed = render(SERVERS, BALANCE_MODES["cookie_hash"], Frontend(session_cookie="lab_session"))
    upstream = find(http_of(renamed, tmp_path), "upstream")[0]["block"]
    assert args(upstream, "hash") == [["$cookie_lab_session", "consistent"]]
    assert find(http_of(renamed, tmp_path), "map") == []


# -- the server: listening, health, static files, the proxy ----------------------------------------------


def test_plain_http_listens_on_port_80_with_no_certificate(tmp_path):
    server = server_of(render(SERVERS, ROUND_ROBIN), tmp_path)
    assert args(server, "listen") == [["80"]]
    assert not find(server, "ssl_certificate") and not find(server, "error_page")
    assert Frontend().port == 80


def test_tls_listens_on_443_with_the_labs_certificate_and_sends_plain_http_there(tmp_path):
    server = server_of(render(SERVERS, ROUND_ROBIN, Frontend(tls=True)), tmp_path)
    assert args(server, "listen") == [["443", "ssl"]]
    assert args(server, "ssl_certificate") == [["/etc/nginx/lab-tls/cert.pem"]]
    assert args(server, "ssl_certificate_key") == [["/etc/nginx/lab-tls/key.pem"]]
    assert args(server, "ssl_protocols") == [["TLSv1.2", "TLSv1.3"]]
    assert args(server, "ssl_session_cache") == [["shared:lab_tls:1m"]]
    assert args(server, "error_page") == [["497", "=301", "https://$http_host$request_uri"]]
    assert Frontend(tls=True).port == 443


def test_nginx_answers_its_own_health_with_the_configuration_it_runs(tmp_path):
    frontend = Frontend("/static/")
    server = server_of(render(SERVERS, BALANCE_MODES["sticky"], frontend), tmp_path)
    health = location(server, "=", "/nginx-health")
    assert args(health, "return") == [["200", "ok\\n"]]  # nginx reads the escape as a newline
    assert lab_headers(health) == {
        "X-Lab-Balance": ["sticky", "always"],
        "X-Lab-Config": [config_id(SERVERS, BALANCE_MODES["sticky"], frontend), "always"],
    }


def test_every_answer_names_the_balance_mode_and_configuration_even_an_error(tmp_path):
    frontend = Frontend("/static/")
    drained = [SERVERS[0]]
    server = server_of(render(SERVERS, BALANCE_MODES["least_conn"], frontend, drained=drained), tmp_path)
    expected = {
        "X-Lab-Balance": ["least_conn", "always"],
        "X-Lab-Config": [config_id(SERVERS, BALANCE_MODES["least_conn"], frontend, drained), "always"],
    }
    for block in (location(server, "=", "/nginx-health"), location(server, "^~", "/static/"), location(server, "/")):
        assert {k: v for k, v in lab_headers(block).items() if k != "X-Lab-Upstream"} == expected


def test_static_files_are_served_by_nginx_from_the_collected_folder(tmp_path):
    server = server_of(render(SERVERS, ROUND_ROBIN, Frontend("/static/")), tmp_path)
    static = location(server, "^~", "/static/")
    assert args(static, "alias") == [["/srv/static/"]]
    assert args(static, "expires") == [["1h"]]
    assert not find(static, "proxy_pass")


@pytest.mark.parametrize("root", ["/srv/static", "/srv/static/", "/srv/static//"])
def test_the_static_alias_ends_with_one_slash_whatever_the_root(root):
    from lab.model.nginx_conf import static_location

    block = static_location("/static/", root, [])
    assert block["args"] == ["^~", "/static/"]
    assert args(block["block"], "alias") == [["/srv/static/"]]
    assert args(static_location("/static/", "/mnt/X", [])["block"], "alias") == [["/mnt/X/"]]


def test_static_files_per_version_come_from_each_versions_folder_under_the_root_the_current_first(tmp_path):
    frontend = Frontend("/assets.v1/", static_versions=("v2", "v1"))
    server = server_of(render(SERVERS, ROUND_ROBIN, frontend, static_root="/srv/static"), tmp_path)
    static = [d for d in find(server, "location") if d["args"][0] == "~"][0]
    assert static["args"] == ["~", r"^/assets\.v1/(?<lab_static>.*)$"]
    assert args(static["block"], "root") == [["/srv/static"]]
    assert args(static["block"], "try_files") == [["/v2/$lab_static", "/v1/$lab_static", "=404"]]
    assert args(static["block"], "expires") == [["1h"]]
    assert lab_headers(static["block"])["X-Lab-Balance"] == ["round_robin", "always"]
    # The location's regex takes the part after STATIC_URL, and only under it ('.' is a dot).
    pattern = static["args"][1].replace("(?<", "(?P<")
    assert re.match(pattern, "/assets.v1/css/site.css").group("lab_static") == "css/site.css"
    assert not re.match(pattern, "/assetsXv1/css/site.css") and not re.match(pattern, "/x/assets.v1/a.css")


def test_without_static_url_every_request_goes_to_the_nodes(tmp_path):
    server = server_of(render(SERVERS, ROUND_ROBIN), tmp_path)
    assert [d["args"] for d in find(server, "location")] == [["=", "/nginx-health"], ["/"]]


def test_the_proxy_passes_every_request_with_the_clients_address_host_and_scheme(tmp_path):
    proxy = location(server_of(render(SERVERS, ROUND_ROBIN), tmp_path), "/")
    assert args(proxy, "proxy_pass") == [["http://django_nodes"]]
    assert args(proxy, "proxy_set_header") == [
        ["Host", "$http_host"],
        ["X-Real-IP", "$remote_addr"],
        ["X-Forwarded-For", "$proxy_add_x_forwarded_for"],
        ["X-Forwarded-Proto", "$scheme"],
    ]
    assert lab_headers(proxy)["X-Lab-Upstream"] == ["$upstream_addr", "always"]


def test_a_dead_node_costs_a_bounded_wait_and_one_retry_on_another(tmp_path):
    proxy = location(server_of(render(SERVERS, ROUND_ROBIN), tmp_path), "/")
    assert args(proxy, "proxy_connect_timeout") == [["2s"]]
    assert args(proxy, "proxy_read_timeout") == [["15s"]]
    assert args(proxy, "proxy_next_upstream") == [["error", "timeout"]]
    assert args(proxy, "proxy_next_upstream_tries") == [["2"]]
    assert not find(proxy, "proxy_http_version")


def test_websocket_upgrades_are_passed_on_with_five_minutes_of_idle_time(tmp_path):
    text = render(SERVERS, ROUND_ROBIN, Frontend(websockets=True))
    proxy = location(server_of(text, tmp_path), "/")
    assert args(proxy, "proxy_http_version") == [["1.1"]]
    headers = dict((a[0], a[1]) for a in args(proxy, "proxy_set_header"))
    assert headers["Upgrade"] == "$http_upgrade" and headers["Connection"] == "$connection_upgrade"
    assert args(proxy, "proxy_read_timeout") == [["300s"]]
    assert args(proxy, "proxy_next_upstream_tries") == [["2"]] and args(proxy, "proxy_connect_timeout") == [["2s"]]


def test_the_connection_header_says_upgrade_for_a_handshake_and_close_otherwise(tmp_path):
    http = http_of(render(SERVERS, ROUND_ROBIN, Frontend(websockets=True)), tmp_path)
    [mapped] = find(http, "map")
    assert mapped["args"] == ["$http_upgrade", "$connection_upgrade"]
    values = {d["directive"]: d["args"] for d in mapped["block"]}
    assert values == {"default": ["upgrade"], "": ["close"]}  # '' is nginx's empty value: no Upgrade header


def test_a_site_without_websockets_gets_no_upgrade_map(tmp_path):
    assert find(http_of(render(SERVERS, ROUND_ROBIN), tmp_path), "map") == []


def test_the_proxy_passes_no_upgrade_unless_asked():
    from lab.model.nginx_conf import proxy_location

    proxy = proxy_location([])["block"]
    assert not find(proxy, "proxy_http_version") and args(proxy, "proxy_read_timeout") == [["15s"]]


def test_an_upstream_needs_a_server():
    with pytest.raises(ValueError, match="^an upstream needs at least one server$"):
        render([], ROUND_ROBIN)


# -- the configuration's id ------------------------------------------------------------------------------


def test_the_config_id_is_twelve_hex_characters():
    assert re.fullmatch(r"[0-9a-f]{12}", config_id(SERVERS, ROUND_ROBIN))


def test_a_configuration_keeps_its_id_from_one_version_of_the_lab_to_the_next():
    """A running lab's nginx is compared by this id: a new id for the same configuration reloads it for nothing."""
    assert config_id(SERVERS, ROUND_ROBIN) == "c208388dba91"
    assert config_id(SERVERS, ROUND_ROBIN, Frontend(tls=True)) == "26fee0b18526"
    assert config_id(SERVERS, ROUND_ROBIN, Frontend(websockets=True)) == "5557f06920f5"
    everything = Frontend("/static/", tls=True, websockets=True, session_cookie="__Secure-sessionid",
                          static_versions=("v2", "v1"))
    assert config_id(SERVERS, BALANCE_MODES["sticky"], everything, drained=[SERVERS[1]]) == "64834e11cf50"


def test_a_default_frontend_keeps_the_id_a_lab_had_before_frontends_existed():
    assert config_id(SERVERS, ROUND_ROBIN, Frontend()) == config_id(SERVERS, ROUND_ROBIN)
    assert config_id(SERVERS, ROUND_ROBIN, Frontend(session_cookie="sessionid")) == config_id(SERVERS, ROUND_ROBIN)
    assert config_id(SERVERS, ROUND_ROBIN, drained=[]) == config_id(SERVERS, ROUND_ROBIN)


@pytest.mark.parametrize(
    "frontend",
    [
        Frontend("/static/"),
        Frontend(tls=True),
        Frontend(session_cookie="__Secure-sessionid"),
        Frontend(websockets=True),
        Frontend(static_versions=("v1",)),
    ],
    ids=["static", "tls", "cookie", "websockets", "versions"],
)
def test_each_part_of_the_frontend_changes_the_config_id(frontend):
    assert config_id(SERVERS, ROUND_ROBIN, frontend) != config_id(SERVERS, ROUND_ROBIN)


def test_the_config_id_tells_apart_static_urls_cookies_and_versions():
    ids = {
        config_id(SERVERS, ROUND_ROBIN, frontend)
        for frontend in (
            Frontend("/static/"), Frontend("/assets/"), Frontend(session_cookie="a-b"), Frontend(session_cookie="c-d"),
            Frontend(static_versions=("v1",)), Frontend(static_versions=("v2",)), Frontend(static_versions=("v2", "v1")),
            Frontend("/static/", tls=True), Frontend("/static/", websockets=True),
        )
    }
    assert len(ids) == 9


def test_draining_a_node_changes_the_config_id_whatever_order_the_drained_are_named_in():
    one = config_id(SERVERS, ROUND_ROBIN, drained=[SERVERS[0]])
    assert one != config_id(SERVERS, ROUND_ROBIN)
    assert one != config_id(SERVERS, ROUND_ROBIN, drained=[SERVERS[1]])
    assert config_id(SERVERS, ROUND_ROBIN, drained=SERVERS[:2]) == config_id(SERVERS, ROUND_ROBIN, drained=SERVERS[1::-1])


def test_the_config_id_follows_the_nodes_order_and_the_mode():
    assert config_id(SERVERS, ROUND_ROBIN) != config_id(SERVERS[::-1], ROUND_ROBIN)
    assert config_id(SERVERS, ROUND_ROBIN) != config_id(SERVERS, BALANCE_MODES["least_conn"])
