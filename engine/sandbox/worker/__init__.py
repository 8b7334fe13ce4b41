"""The sandbox processes' side (standard library only, no engine imports): `entry` (script run
in a fresh interpreter), `fast` (fast-tier worker), `strict` (zygote), `integrity`, `lockdown`
(isolation layers applied to itself), `wire` (frames)."""
