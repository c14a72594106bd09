import time

from lab.studies.experiments.base import Case, Experiment, Traffic, timeline
from lab.verdicts.rules import Judgement, ended_logged_out, everyone_logged_out, failures, no_one_logged_out

DJANGO_REASON = "Session data corrupted"


class SecretKeyMismatch(Experiment):
    name = "secret-key-mismatch"
    summary = "give nodes different SECRET_KEYs over a shared store; then rotate the key properly"
    # The db backend signs session data with SECRET_KEY, so Django names the reason in its log.
    # (Cache backends store it unsigned; there users are logged out by the session auth hash, silently.)
    cases = (Case("db", "round_robin"),)
    quick = ()

    def expect(self, case):
        return (
            "every user is logged out with different keys; no one when the key is rotated with SECRET_KEY_FALLBACKS",
            "sessions are signed with SECRET_KEY; a node with another key rejects them, a fallback key accepts them",
        )

    def measure(self, lab, clients, case, outcome):
        username, _ = lab.login()
        with Traffic(clients, seconds=9) as traffic:
            time.sleep(3)
            traffic.mark("every node gets its own SECRET_KEY")
            lab.switch(secret_key_per_node=True)
            traffic.mark("nodes running with different keys")
            mismatched = traffic.users()
        logs = "".join(lab.logs(f"node-{i}", tail=300) for i in range(1, lab.config().nodes + 1))
        reason = next((line.strip() for line in logs.splitlines() if DJANGO_REASON in line), "")
        first_events, first_timeline = traffic.events, timeline(mismatched, username, traffic.started)

        lab.switch(secret_key_per_node=False)
        with Traffic(clients, seconds=9) as traffic:
            time.sleep(3)
            began = traffic.started + traffic.mark("SECRET_KEY rotated, old key kept as a fallback")
            lab.rotate_secret_key()
            traffic.mark("nodes running with the new key")
            rotated = traffic.users()
        lost_mismatch = sum(ended_logged_out(u, username) for u in mismatched)
        lost_rotation = sum(ended_logged_out(u, username) for u in rotated)
        outcome.figures = {
            "users": len(mismatched),
            "logged_out_with_different_keys": lost_mismatch,
            "logged_out_after_rotation_with_fallback": lost_rotation,
            "failed_requests_while_nodes_restarted": len(failures(rotated, after=began)),
            "django_says": reason,
        }
        outcome.observed = (
            f"different keys: {lost_mismatch} of {len(mismatched)} logged out (Django: {reason or 'nothing logged'}); "
            f"rotation with a fallback: {lost_rotation} of {len(rotated)} logged out"
        )
        logged = Judgement(bool(reason), f"Django logged {reason!r}" if reason else "Django logged no reason")
        outcome.judge(
            everyone_logged_out(mismatched, username) & logged & no_one_logged_out(rotated, username)
        )
        outcome.events = first_events + [(t + 100, f"(second run) {label}") for t, label in traffic.events]
        outcome.timeline = first_timeline
