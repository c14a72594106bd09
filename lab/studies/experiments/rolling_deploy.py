"""rolling-deploy: a new version of the site rolled out while users browse. Each answer names the version
that served it (X-Lab-Version), so each user's trace shows the old, then the new; the same release is
also put out on every node at once, as a plain `lab up` would, to show what the drain saves."""

import time

from lab.model.nginx_conf import FAIL_TIMEOUT_S
from lab.studies.experiments.base import Case, Experiment, Traffic, timeline
from lab.verdicts.rules import failed_only_between, failures, moved_to_version, no_failures


def version_of_plan(lab) -> str:
    node = lab.plan().nodes[0]
    release = lab.config().release
    return node.env["LAB_VERSION"] + (f" {release}" if release else "")


class RollingDeploy(Experiment):
    name = "rolling-deploy"
    summary = "roll a new release out under traffic, one node at a time; then the same on every node at once"
    cases = (Case("redis", "round_robin", "rolling"), Case("redis", "round_robin", "all at once"))
    quick = (Case("redis", "round_robin", "rolling"),)

    def expect(self, case):
        if case.option == "rolling":
            return (
                "no request fails; each user is served the old version, then the new, and only the new once it is done",
                "nginx stops sending a node new requests before it is replaced (drain), and sends it traffic "
                "again once it is ready; a request to a node that just went away is retried on another",
            )
        return (
            "requests fail while every node restarts at once, then every user gets the new version",
            "no node is left to take a request while all of them restart",
        )

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        old = version_of_plan(lab)
        release = f"r{int(time.time())}"
        with Traffic(clients, seconds=30, pause=0.05) as traffic:
            time.sleep(3)
            began = traffic.started + traffic.mark(f"release {release}: {case.option}")
            result = lab.deploy(release=release) if case.option == "rolling" else lab.up(release=release)
            ended = traffic.started + traffic.mark("deployed")
            users = traffic.users()
        new = version_of_plan(lab)
        failed = failures(users, after=began)
        answered = [o for u in users for o in u.observations if o.status == 200]
        outcome.figures = {
            "users": len(users),
            "deploy_seconds": round(result.seconds, 1),
            "failed_requests": len(failed),
            "answers_old": sum(o.version == old for o in answered),
            "answers_new": sum(o.version == new for o in answered),
            "users_served_both": sum(any(o.version == old for o in u.observations) and any(o.version == new for o in u.observations) for u in users),
        }
        outcome.observed = (
            f"deployed in {result.seconds:.1f} s; {len(failed)} requests failed; {outcome.figures['answers_old']} answers "
            f"from the old version, {outcome.figures['answers_new']} from the new"
        )
        # Answers after the deploy are the new version (nginx's reload has landed by then).
        moved = moved_to_version(users, old, new, after=ended + 0.5)
        if case.option == "rolling":
            outcome.judge(no_failures(users, after=began) & moved)
        else:
            outcome.judge(failed_only_between(users, began, ended + FAIL_TIMEOUT_S + 1) & moved)
        outcome.events, outcome.timeline = traffic.events, timeline(users, username, traffic.started)
