"""Object types, property definitions and association type ids the sandbox knows.

Only the subset of HubSpot's schema that leadops uses. Property definitions follow the shape of
`GET /crm/v3/properties/{objectType}/{name}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OBJECT_TYPES = ("contacts", "emails", "calls", "meetings", "tasks", "notes", "deals")
ENGAGEMENT_TYPES = ("emails", "calls", "meetings", "tasks", "notes")
# Singular names HubSpot accepts in paths (`/crm/v4/associations/contact/task/...`).
SINGULAR = {
    "contact": "contacts",
    "email": "emails",
    "call": "calls",
    "meeting": "meetings",
    "task": "tasks",
    "note": "notes",
    "deal": "deals",
}
# Object type ids (`0-1` = contacts) also appear in paths.
TYPE_IDS = {
    "0-1": "contacts",
    "0-49": "emails",
    "0-48": "calls",
    "0-47": "meetings",
    "0-27": "tasks",
    "0-46": "notes",
    "0-3": "deals",
}

# engagement -> contact association type ids; contact -> engagement is one less.
ENGAGEMENT_TO_CONTACT = {"tasks": 204, "calls": 194, "emails": 198, "meetings": 200, "notes": 202}
# HUBSPOT_DEFINED contact <-> deal type ids (HubSpot's Associations v4 guide, "Association type
# ID values": contact to deal 4, deal to contact 3).
CONTACT_TO_DEAL, DEAL_TO_CONTACT = 4, 3

LIFECYCLE_ORDER = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
LIFECYCLE_OTHER = "other"
# Read-only "became a <stage>" dates HubSpot sets when a contact enters a stage.
STAGE_DATE = {stage: f"hs_lifecyclestage_{stage}_date" for stage in LIFECYCLE_ORDER}

LEAD_STATUSES = {
    "NEW": "New",
    "OPEN": "Open",
    "IN_PROGRESS": "In Progress",
    "OPEN_DEAL": "Open Deal",
    "UNQUALIFIED": "Unqualified",
    "ATTEMPTED_TO_CONTACT": "Attempted to Contact",
    "CONNECTED": "Connected",
    "BAD_TIMING": "Bad Timing",
    # Not one of HubSpot's defaults: the demo portal added it, as many portals do (issue #12).
    "MEETING_SCHEDULED": "Meeting Scheduled",
}

CALL_DISPOSITIONS = {
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "Connected",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "No answer",
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "Busy",
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "Left voicemail",
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "Left live message",
    "17b47fee-58de-441e-a44c-c6300d46f273": "Wrong number",
}


def resolve_type(name: str) -> str | None:
    """`contacts`, `contact` or `0-1` -> `contacts`; None when unknown."""
    name = name.lower()
    if name in OBJECT_TYPES:
        return name
    return SINGULAR.get(name) or TYPE_IDS.get(name)


def association_type_id(from_type: str, to_type: str) -> int | None:
    """HUBSPOT_DEFINED type id for from -> to, or None when the pair is not supported."""
    if to_type == "contacts" and from_type in ENGAGEMENT_TO_CONTACT:
        return ENGAGEMENT_TO_CONTACT[from_type]
    if from_type == "contacts" and to_type in ENGAGEMENT_TO_CONTACT:
        return ENGAGEMENT_TO_CONTACT[to_type] - 1
    if (from_type, to_type) == ("contacts", "deals"):
        return CONTACT_TO_DEAL
    if (from_type, to_type) == ("deals", "contacts"):
        return DEAL_TO_CONTACT
    return None


@dataclass(frozen=True)
class PropertyDef:
    """One property definition; `type` is string, number, enumeration, datetime or bool."""

    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    options: tuple[str | tuple[str, str], ...] = ()
    read_only: bool = False
    group: str = "contactinformation"

    def option_values(self) -> list[str]:
        return [o if isinstance(o, str) else o[0] for o in self.options]

    def to_json(self, object_type: str, created_at: str) -> dict[str, Any]:
        """The property as `GET /crm/v3/properties/{objectType}/{name}` answers it."""
        options = []
        for order, option in enumerate(self.options):
            value, label = (option, option) if isinstance(option, str) else option
            options.append(
                {
                    "label": label,
                    "value": value,
                    "description": "",
                    "displayOrder": order,
                    "hidden": False,
                }
            )
        return {
            "updatedAt": created_at,
            "createdAt": created_at,
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": "",
            "groupName": self.group,
            "options": options,
            "displayOrder": -1,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": False,
            "hidden": False,
            "hubspotDefined": self.group != "leadops",
            "modificationMetadata": {
                "archivable": not self.read_only,
                "readOnlyDefinition": True,
                "readOnlyValue": self.read_only,
            },
            "formField": not self.read_only,
            "dataSensitivity": "non_sensitive",
        }


def _enum(
    name: str, label: str, options: tuple[str | tuple[str, str], ...], **kw: Any
) -> PropertyDef:
    return PropertyDef(name, label, "enumeration", kw.pop("field_type", "select"), options, **kw)


def _dt(name: str, label: str, read_only: bool = False) -> PropertyDef:
    return PropertyDef(name, label, "datetime", "date", read_only=read_only)


def _ro(name: str, label: str, type_: str = "string", field_type: str = "text") -> PropertyDef:
    return PropertyDef(name, label, type_, field_type, read_only=True)


_BOOL = (("true", "Yes"), ("false", "No"))

_COMMON = (
    _ro("hs_object_id", "Record ID", "number", "number"),
    PropertyDef("hubspot_owner_id", "Owner", "enumeration", "select"),
)

_CONTACT = (
    *_COMMON,
    PropertyDef("firstname", "First Name"),
    PropertyDef("lastname", "Last Name"),
    PropertyDef("email", "Email"),
    PropertyDef("company", "Company Name"),
    PropertyDef("phone", "Phone Number", field_type="phonenumber"),
    PropertyDef("jobtitle", "Job Title"),
    _enum(
        "lifecyclestage",
        "Lifecycle Stage",
        (
            ("subscriber", "Subscriber"),
            ("lead", "Lead"),
            ("marketingqualifiedlead", "Marketing Qualified Lead"),
            ("salesqualifiedlead", "Sales Qualified Lead"),
            ("opportunity", "Opportunity"),
            ("customer", "Customer"),
            ("evangelist", "Evangelist"),
            ("other", "Other"),
        ),
        field_type="radio",
    ),
    _enum(
        "hs_lead_status",
        "Lead Status",
        tuple(LEAD_STATUSES.items()),
        field_type="radio",
    ),
    PropertyDef("lead_score", "Lead score", "number", "number", group="leadops"),
    # HubSpot's lead-scoring tool (which replaced `hubspotscore`, frozen since 2025-08-31) gives
    # a portal fit, engagement and combined scores as number properties, and threshold labels
    # A1 (best fit, most engaged) to C3 as an enumeration (HubSpot knowledge base, "Understand
    # the lead scoring tool"; the A1-C3 framework: nettly.co/blog/lead-scoring). Real portals
    # get generated internal names; the demo names them plainly.
    PropertyDef("fit_score", "Fit score", "number", "number", group="leadops"),
    PropertyDef("engagement_score", "Engagement score", "number", "number", group="leadops"),
    _enum(
        "lead_score_label",
        "Lead score threshold",
        tuple((f"{fit}{level}", f"{fit}{level}") for fit in "ABC" for level in "123"),
        group="leadops",
    ),
    _enum(
        "product_interest",
        "Product interest",
        (("analytics", "Analytics"), ("crm", "CRM"), ("payments", "Payments")),
        group="leadops",
    ),
    _ro("createdate", "Create Date", "datetime", "date"),
    _ro("lastmodifieddate", "Last Modified Date", "datetime", "date"),
    *(
        _dt(STAGE_DATE[stage], f"Became a {stage} Date", read_only=True)
        for stage in LIFECYCLE_ORDER
    ),
    _dt("notes_last_contacted", "Last Contacted", read_only=True),
    _dt("notes_last_updated", "Last Activity Date", read_only=True),
    _dt("notes_next_activity_date", "Next Activity Date", read_only=True),
    _ro("num_contacted_notes", "Number of times contacted", "number", "number"),
    _ro("num_notes", "Number of Sales Activities", "number", "number"),
    _ro("num_associated_deals", "Number of Associated Deals", "number", "number"),
    _dt("hs_sales_email_last_replied", "Recent Sales Email Replied Date", read_only=True),
    _dt("hs_last_sales_activity_timestamp", "Last Engagement Date", read_only=True),
    PropertyDef(
        "hs_sequences_is_enrolled",
        "Currently in Sequence",
        "bool",
        "booleancheckbox",
        _BOOL,
        read_only=True,
    ),
    _ro("hubspotscore", "HubSpot Score", "number", "number"),
)

_ENGAGEMENT_COMMON = (
    *_COMMON,
    _ro("hs_createdate", "Create date", "datetime", "date"),
    _ro("hs_lastmodifieddate", "Last modified date", "datetime", "date"),
    _dt("hs_timestamp", "Activity date"),
)

_EMAIL = (
    *_ENGAGEMENT_COMMON,
    _enum(
        "hs_email_direction",
        "Email direction",
        (("EMAIL", "Email sent"), ("INCOMING_EMAIL", "Reply"), ("FORWARDED_EMAIL", "Forwarded")),
    ),
    _enum("hs_email_status", "Email status", ("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT")),
    PropertyDef("hs_email_subject", "Email subject"),
    PropertyDef("hs_email_text", "Email text", field_type="textarea"),
)

_CALL = (
    *_ENGAGEMENT_COMMON,
    _enum("hs_call_direction", "Call direction", ("INBOUND", "OUTBOUND")),
    _enum(
        "hs_call_status",
        "Call status",
        (
            "BUSY",
            "CALLING_CRM_USER",
            "CANCELED",
            "COMPLETED",
            "CONNECTING",
            "FAILED",
            "IN_PROGRESS",
            "NO_ANSWER",
            "QUEUED",
            "RINGING",
        ),
    ),
    _enum("hs_call_disposition", "Call outcome", tuple(CALL_DISPOSITIONS.items())),
    PropertyDef("hs_call_title", "Call title"),
    PropertyDef("hs_call_body", "Call notes", field_type="textarea"),
    PropertyDef("hs_call_duration", "Call duration", "number", "number"),
)

_MEETING = (
    *_ENGAGEMENT_COMMON,
    _enum(
        "hs_meeting_outcome",
        "Meeting outcome",
        ("SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"),
    ),
    _dt("hs_meeting_start_time", "Meeting start time"),
    _dt("hs_meeting_end_time", "Meeting end time"),
    PropertyDef("hs_meeting_title", "Meeting name"),
)

_TASK = (
    *_ENGAGEMENT_COMMON,
    PropertyDef("hs_task_subject", "Task title"),
    PropertyDef("hs_task_body", "Task notes", field_type="textarea"),
    _enum(
        "hs_task_status",
        "Task status",
        ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"),
    ),
    _enum("hs_task_priority", "Priority", ("NONE", "LOW", "MEDIUM", "HIGH")),
    _enum("hs_task_type", "Task type", ("CALL", "EMAIL", "LINKED_IN", "MEETING", "TODO")),
    _dt("hs_task_completion_date", "Completed at", read_only=True),
)

_NOTE = (*_ENGAGEMENT_COMMON, PropertyDef("hs_note_body", "Note body", field_type="textarea"))

# Deals (HubSpot's default deal properties): `dealstage` is an enumeration whose options are
# the stages of the deal's `pipeline` (checked against DEAL_PIPELINES on write, not here).
_DEAL = (
    *_COMMON,
    PropertyDef("dealname", "Deal Name"),
    PropertyDef("pipeline", "Pipeline", "enumeration", "select"),
    PropertyDef("dealstage", "Deal Stage", "enumeration", "select"),
    PropertyDef("amount", "Amount", "number", "number"),
    _dt("closedate", "Close Date"),
    _ro("createdate", "Create Date", "datetime", "date"),
    _ro("hs_lastmodifieddate", "Last Modified Date", "datetime", "date"),
)

PROPERTIES: dict[str, dict[str, PropertyDef]] = {
    object_type: {p.name: p for p in props}
    for object_type, props in (
        ("contacts", _CONTACT),
        ("emails", _EMAIL),
        ("calls", _CALL),
        ("meetings", _MEETING),
        ("tasks", _TASK),
        ("notes", _NOTE),
        ("deals", _DEAL),
    )
}

# Properties a record returns when the request names none.
DEFAULT_PROPERTIES = {
    "contacts": (
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ),
}
ENGAGEMENT_DEFAULT_PROPERTIES = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")


def created_property(object_type: str) -> str:
    return "createdate" if object_type in ("contacts", "deals") else "hs_createdate"


def modified_property(object_type: str) -> str:
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


@dataclass(frozen=True)
class StageDef:
    id: str
    label: str
    probability: str
    closed: bool


@dataclass(frozen=True)
class PipelineDef:
    id: str
    label: str
    stages: tuple[StageDef, ...]

    def stage(self, stage_id: str) -> StageDef | None:
        return next((s for s in self.stages if s.id == stage_id), None)


def _stages(*rows: tuple[str, str, str, bool]) -> tuple[StageDef, ...]:
    return tuple(StageDef(*row) for row in rows)


# HubSpot's default deal pipeline (id "default", its stage ids and probabilities as in
# HubSpot's "Set up and customize pipelines" knowledge-base article) and one a portal added.
DEAL_PIPELINES = (
    PipelineDef(
        "default",
        "Sales Pipeline",
        _stages(
            ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
            ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
            ("presentationscheduled", "Presentation Scheduled", "0.6", False),
            ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
            ("contractsent", "Contract Sent", "0.9", False),
            ("closedwon", "Closed Won", "1.0", True),
            ("closedlost", "Closed Lost", "0.0", True),
        ),
    ),
    PipelineDef(
        "1001",
        "Renewals",
        _stages(
            ("1002", "Renewal due", "0.5", False),
            ("1003", "Renewed", "1.0", True),
            ("1004", "Churned", "0.0", True),
        ),
    ),
)
