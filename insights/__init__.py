"""Pure lead-report computation: funnel, time in status, stuck leads, first-touch SLA and
score calibration from contacts with their property histories. No I/O, no Prefect."""
