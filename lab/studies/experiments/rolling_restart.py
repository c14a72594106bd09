import time

from lab.model.nginx_conf import FAIL_TIMEOUT_S
from lab.studies.experiments.base import Case, Experiment, Traffic, timeline
from lab.verdicts.rules import (
    Judgement,
    ended_logged_out,
    everyone_logged_out,
    failures,
    handed_new_session,
    logged_out,
    logged_out_exactly_when,
    no_one_logged_out,
    served_elsewhere,
)


class RollingRestart(Experiment):
    name = "rolling-restart"
    # A careful deploy waits out nginx's fail_timeout between nodes: a node that failed a request stays
    # out that long, so restarting the next one sooner leaves nginx no node it trusts (measured: every
    # request failed for about 3 s when the restarts were back to back).
    summary = f"restart every node, one at a time, {FAIL_TIMEOUT_S} s apart, as a careful deploy does"
    cases = (Case("local_file", "ip_hash"), Case("redis", "round_robin"), Case("locmem", "sticky", "1 worker"))
    quick = ()

    def expect(self, case):
        if case.backend == "locmem":
            return "every user is logged out", "a restart empties the node's memory, and every node restarts"
        if case.backend == "local_file":
            return (
                "every session file survives, yet exactly the users whom another node served mid-restart and "
                "handed a new session cookie are logged out",
                "the files live on the node's volume, which outlives the container; but the node that stands in "
                "gives such a user a new, empty session and a new session cookie, which orphans the old one",
            )
        return "no session is lost", "the sessions live in Redis, which no restart touches"

    def prepare(self, lab, case):
        # One worker per node, so locmem keeps sessions at all before the restarts.
        lab.switch(backend=case.backend, balance=case.balance)
        lab.up(workers=1 if case.option == "1 worker" else lab.config().workers)

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        nodes = lab.config().nodes
        with Traffic(clients, seconds=4 + (FAIL_TIMEOUT_S + 2) * nodes) as traffic:
            time.sleep(2)
            first = traffic.started + traffic.mark("rolling restart begins")
            for index in range(1, nodes + 1):
                if index > 1:
                    time.sleep(FAIL_TIMEOUT_S)
                traffic.mark(f"node-{index} restarting")
                lab.restart(f"node-{index}")
            traffic.mark("every node restarted")
            users = traffic.users()
        files = sum(
            int(lab.engine.exec_member(f"{lab.name}-node-{i}", ["bash", "-c", "ls /var/lib/lab/sessions | wc -l"])[1] or 0)
            for i in range(1, nodes + 1)
        )

        # Under ip_hash only a failover sends a user away from home; nginx keeps a failed node out for
        # fail_timeout after it is back, so any time after the restarts began counts. A user served
        # elsewhere by an answer that carried no new session (a failed request) keeps its login.
        def orphaned(user) -> bool:
            return served_elsewhere(user, first) and handed_new_session(user, first)

        elsewhere = sorted(u.name for u in users if served_elsewhere(u, first))
        lost = [u.name for u in users if ended_logged_out(u, username)]
        glimpsed = [u.name for u in users if logged_out(u, username, after=first)]
        failed = failures(users, after=first)
        outcome.figures = {
            "users": len(users),
            "served_by_another_node_while_theirs_restarted": len(elsewhere),
            "served_elsewhere_and_handed_a_new_session": sum(orphaned(u) for u in users),
            "session_files_on_node_volumes_after": files,
            "sessions_lost": len(lost),
            "users_who_saw_a_logged_out_page": len(glimpsed),
            "failed_requests": len(failed),
        }
        outcome.observed = (
            f"{len(lost)} of {len(users)} sessions lost; {len(glimpsed)} users saw a logged-out page on the way; "
            f"{len(failed)} requests failed"
        )
        if case.backend == "locmem":
            outcome.judge(everyone_logged_out(users, username))
        elif case.backend == "local_file":
            kept_files = Judgement(
                files >= len(users), f"{files} session files on the node volumes for {len(users)} users"
            )
            outcome.judge(
                logged_out_exactly_when(
                    users, username, orphaned, "were served by another node mid-restart and handed a new session"
                )
                & kept_files
            )
        else:
            outcome.judge(no_one_logged_out(users, username))
        outcome.events, outcome.timeline = traffic.events, timeline(users, username, traffic.started)
