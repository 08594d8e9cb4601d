"""Contact activity roll-ups, recomputed from the engagements associated to a contact.

HubSpot keeps these read-only contact properties itself (knowledge.hubspot.com, "HubSpot's
default contact properties", Sales activity group; developers.hubspot.com/docs/api/crm/engagements):
- `notes_last_contacted` (Last Contacted): the last call, sales email or meeting logged for
  the contact; `num_contacted_notes` (Number of times contacted) counts them. Marketing emails
  and replies do not count. The sandbox counts outbound calls, `EMAIL`-direction emails and
  meetings, as its demo seed does.
- `notes_last_updated` (Last Activity Date) and `hs_last_sales_activity_timestamp` (Last
  Engagement Date): the last call, email or meeting of any direction.
- `hs_sales_email_last_replied`: the last `INCOMING_EMAIL` (a reply).
- `notes_next_activity_date` (Next Activity Date): the earliest upcoming activity: a task not
  completed, a meeting or a call dated in the future.
- `num_associated_deals` (Number of Associated Deals): the deals associated with the contact
  (written once a contact has or had deals; the demo seed sets "0" on the others). HubSpot's
  developer changelog ("Associations API property labels update") names it a contact
  property counting the associated deals. An association writes no property of the deal
  itself (incremental syncs by modified date miss records associated later:
  airbytehq/airbyte#44554, #27199); that the roll-up's change moves the contact's
  `lastmodifieddate` is unsettled: the product must not depend on it (its reconcile repairs
  what it misses), and the sandbox models the roll-up as below.
Only engagements dated up to now count towards the "last" roll-ups. A change to any roll-up
is a write HubSpot makes (source CALCULATED), so the contact's `lastmodifieddate` moves too;
HubSpot does this asynchronously, the sandbox at once (search lag, if configured, applies).
"""

from __future__ import annotations

from sandbox.store import Store
from sandbox.tables import Record, iso, parse_ms

ACTIVITIES = ("emails", "calls", "meetings")


def counts_as_contacted(kind: str, props: dict[str, str]) -> bool:
    """Whether a logged engagement counts as contacting the contact (`notes_last_contacted`)."""
    return (
        props.get("hs_email_direction") == "EMAIL"
        or props.get("hs_call_direction") == "OUTBOUND"
        or kind == "meetings"
    )


def refresh_contacts_of(store: Store, object_type: str, record: Record) -> None:
    """Recompute the roll-ups of every contact `record` (an engagement) is associated to."""
    if object_type == "contacts":
        return
    for contact_id in list(store.associated(object_type, record.id, "contacts")):
        refresh_contact(store, contact_id)


def refresh_contact(store: Store, contact_id: int) -> None:
    """Write the contact's roll-ups from its engagements when any of them changed."""
    contact = store.get("contacts", contact_id)
    if contact is None:
        return
    computed = _rollups(store, contact_id)
    deals = len(store.associated("contacts", contact_id, "deals"))
    if deals or (contact.props.get("num_associated_deals") or "0") != "0":
        computed["num_associated_deals"] = str(deals)
    changed = {
        name: value for name, value in computed.items() if (contact.props.get(name) or "") != value
    }
    if changed:
        store.apply("contacts", contact, changed, source="CALCULATED")


def _rollups(store: Store, contact_id: int) -> dict[str, str]:
    now = store.clock()
    contacted: list[int] = []
    activity: list[int] = []
    replied: list[int] = []
    upcoming: list[int] = []
    for kind in (*ACTIVITIES, "tasks"):
        for engagement_id in store.associated("contacts", contact_id, kind):
            engagement = store.get(kind, engagement_id)
            if engagement is None:
                continue
            props = engagement.props
            at = parse_ms(props.get("hs_meeting_start_time") or props.get("hs_timestamp") or "")
            if at is None:
                continue
            if at > now:
                if kind != "tasks" or props.get("hs_task_status") != "COMPLETED":
                    upcoming.append(at)
                continue
            if kind == "tasks":
                continue
            activity.append(at)
            if counts_as_contacted(kind, props):
                contacted.append(at)
            if props.get("hs_email_direction") == "INCOMING_EMAIL":
                replied.append(at)
    return {
        "notes_last_contacted": iso(max(contacted)) if contacted else "",
        "num_contacted_notes": str(len(contacted)) if contacted else "",
        "notes_last_updated": iso(max(activity)) if activity else "",
        "hs_last_sales_activity_timestamp": iso(max(activity)) if activity else "",
        "hs_sales_email_last_replied": iso(max(replied)) if replied else "",
        "notes_next_activity_date": iso(min(upcoming)) if upcoming else "",
    }
