"""Failure alerts that always reach ops: Prefect state hooks for the leadops flows.

`alert_ops_on_failure` (on_failure / on_crashed) mails ops the first failure of a streak;
`alert_ops_on_recovery` (on_completion) mails them once when the deployment works again
(`runstate.alert_streak` keeps the streak per portal and deployment). The alert path does not
depend on the rules file: the ops address is `LEADOPS_OPS_EMAIL` when set, else the rules'
`notify.ops_email`, else the last one that loaded (a typo in the file must not silence the
alert about it). Alerts name the portal and the deployment.

Example:
    ```python
    from prefect import flow

    from notify.alerts import ALERT_HOOKS

    @flow(**ALERT_HOOKS)
    def nightly() -> None:
        raise RuntimeError("boom")  # ops get "leadops: nightly run <name> failed"
    ```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefect import Flow
from prefect.client.schemas.objects import FlowRun, State

from config.rules import ConfigError, Notify, Rules, load_rules
from config.settings import Settings
from notify.channels import ChannelPost, post_to_channels
from notify.ops_plan import FailureAlert
from notify.outbox import (
    DeliveryReport,
    deliver_outbox,
    run_logger,
    scrub,
    secrets_of,
    write_outbox,
)
from notify.render import render_failure_alert
from notify.text import MAX_ERROR, one_line, text_block
from runstate.alert_streak import AlertStreaks


def run_url(flow_run_id: object) -> str | None:
    """The run's page in the Prefect UI, when `PREFECT_UI_URL` (or the API URL) is set."""
    from prefect.settings import get_current_settings

    base = get_current_settings().ui_url
    return f"{base.rstrip('/')}/runs/flow-run/{flow_run_id}" if base else None


def deployment_of(flow: Flow[..., Any], flow_run: FlowRun) -> str:
    """`<flow>/<deployment>` of the run, or `<flow> (no deployment)` for a direct call."""
    deployment_id = getattr(flow_run, "deployment_id", None)
    if deployment_id:
        from prefect import get_client

        try:
            with get_client(sync_client=True) as client:
                return f"{flow.name}/{client.read_deployment(deployment_id).name}"
        except Exception:  # the alert matters more than the deployment's name
            return f"{flow.name}/deployment {deployment_id}"
    return f"{flow.name} (no deployment)"


def portal_of(settings: Settings) -> str:
    """`portal 12345` (deployments set HUBSPOT_PORTAL_ID), else the API it talks to."""
    if settings.hubspot_portal_id:
        return f"portal {settings.hubspot_portal_id}"
    return f"the portal at {settings.hubspot_base_url}"


def alert_rules(settings: Settings, streaks: AlertStreaks) -> Rules:
    """Rules carrying the alert's sender, ops address and team channels. Rules that load are
    remembered; when the file has an error, the last notify section that loaded stands in (or
    `LEADOPS_OPS_EMAIL`), and no channel is posted to."""
    channels = Rules().channels  # none, unless the file loads
    try:
        loaded = load_rules(settings.lifecycle_config)
        notify, channels = loaded.notify, loaded.channels
        streaks.remember_notify(notify)
    except (ConfigError, OSError) as exc:
        remembered = streaks.last_good_notify()
        if remembered is None and settings.leadops_ops_email is None:
            raise RuntimeError(
                f"no ops address: the rules file has an error ({one_line(str(exc), 300)}) "
                "and never loaded here before; set LEADOPS_OPS_EMAIL so alerts do not depend "
                "on it"
            ) from exc
        notify = remembered or Notify()
    if settings.leadops_ops_email:
        notify = notify.model_copy(update={"ops_email": settings.leadops_ops_email})
    return Rules(notify=notify, channels=channels)


def _alert(
    flow: Flow[..., Any], flow_run: FlowRun, settings: Settings, deployment: str, **what: Any
) -> FailureAlert:
    return FailureAlert(
        flow_name=one_line(flow.name, 100),
        run_name=one_line(flow_run.name, 100),
        url=run_url(flow_run.id),
        portal=one_line(portal_of(settings), 200),
        deployment=one_line(deployment, 200),
        **what,
    )


def send_failure_alert(
    flow: Flow[..., Any],
    flow_run: FlowRun,
    state: State,
    settings: Settings | None = None,
    rules: Rules | None = None,
) -> DeliveryReport | None:
    """Mail ops about a failed or crashed run (the first of a streak); never raises.

    Returns the delivery report, or None when no alert was due (the streak was alerted
    already) or it could not even be written (logged).
    """
    secrets: list[str] = []
    try:
        settings = settings or Settings()
        secrets = secrets_of(settings)
        streaks = AlertStreaks(settings)
        deployment = deployment_of(flow, flow_run)
        streak = streaks.failed(deployment)
        if streak.alerted:
            run_logger().warning(
                "%s failed %d time(s) in a row; ops were alerted at the first",
                deployment,
                streak.failures,
            )
            return None
        if rules is None:
            rules = alert_rules(settings, streaks)
        error = scrub(str(state.message or state.name or "no message"), secrets)
        alert = _alert(
            flow,
            flow_run,
            settings,
            deployment,
            state=one_line(state.name or "Failed", 40),
            error=text_block(error, MAX_ERROR),
        )
        write_outbox(settings, [render_failure_alert(alert, rules)])
        streaks.alerted(deployment)
        report = deliver_outbox(settings)
        _post_failure(rules, alert, secrets)
    except Exception as exc:  # a hook must never raise: it would hide the real failure
        run_logger().warning("could not send the failure alert: %s", scrub(repr(exc), secrets))
        return None
    if report.errors:
        run_logger().warning("failure alert not delivered yet: %s", report.describe())
    return report


def _post_failure(rules: Rules, alert: FailureAlert, secrets: Sequence[str]) -> None:
    """The failure, once per streak like the mail, to the team channels that want failures."""
    channels = rules.channels
    if not channels.blocks or "failures" not in channels.post:
        return
    post = ChannelPost(
        f"leadops: {alert.flow_name} run {alert.run_name} {alert.state} on {alert.portal}",
        f"Deployment: {alert.deployment}\nError: {alert.error}\n{alert.url}",
    )
    report = post_to_channels(post, channels.blocks, secrets)
    if report.failed:
        run_logger().warning(report.describe())


def send_recovery_notice(
    flow: Flow[..., Any], flow_run: FlowRun, settings: Settings | None = None
) -> DeliveryReport | None:
    """After a streak ops were alerted about, tell them once that a run succeeded again."""
    secrets: list[str] = []
    try:
        settings = settings or Settings()
        secrets = secrets_of(settings)
        streaks = AlertStreaks(settings)
        deployment = deployment_of(flow, flow_run)
        ended = streaks.succeeded(deployment)
        rules = alert_rules(settings, streaks)  # remembers the notify section that loaded
        if not ended.alerted:
            return None
        notice = _alert(
            flow,
            flow_run,
            settings,
            deployment,
            state="Recovered",
            error="",
            failures=ended.failures,
        )
        write_outbox(settings, [render_failure_alert(notice, rules)])
        return deliver_outbox(settings)
    except Exception as exc:  # a hook must never raise
        run_logger().warning("could not send the recovery notice: %s", scrub(repr(exc), secrets))
        return None


def alert_ops_on_failure(flow: Flow[..., Any], flow_run: FlowRun, state: State) -> None:
    """Prefect state hook (on_failure, on_crashed): email ops the first failure of a streak."""
    send_failure_alert(flow, flow_run, state)


def alert_ops_on_recovery(flow: Flow[..., Any], flow_run: FlowRun, state: State) -> None:
    """Prefect state hook (on_completion): email ops once when a failing deployment recovers."""
    send_recovery_notice(flow, flow_run)


# Every leadops flow: `@flow(name=..., **ALERT_HOOKS)`.
ALERT_HOOKS: dict[str, Any] = {
    "on_failure": [alert_ops_on_failure],
    "on_crashed": [alert_ops_on_failure],
    "on_completion": [alert_ops_on_recovery],
}
