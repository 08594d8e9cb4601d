"""The HubSpot adapter: the only code that talks to HubSpot. `client` (HubSpotGateway:
retries, pacing, paging, batching), `wire` (request and response shapes), `errors` (what
HubSpot's failures mean), `types` (what goes in and comes out), `pacing` (rolling windows).

May import: `model`, `config`.
"""
