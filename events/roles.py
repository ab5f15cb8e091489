"""The three staff roles, as groups whose permissions are kept in step.

* viewer: sees events, devices, unparsed messages, countries, reports and
  dashboards; changes nothing;
* analyst: a viewer who also creates, changes and runs reports and
  dashboards, and exports;
* admin: every permission except managing users, groups and permissions
  (only a superuser does that).

The groups are synchronised after every ``migrate`` (a ``post_migrate``
handler) and by ``manage.py setuproles``, not by a data migration:
permissions only exist once ``post_migrate`` has created them, and the
models of apps added later (geo, dashboards) must join the roles without a
new migration in this app. A user is given a role by joining its group
(staff status is needed to log in to the admin).
"""

import logging
from collections.abc import Callable

from django.contrib.auth.models import Group, Permission

logger = logging.getLogger(__name__)

VIEWER = "viewer"
ANALYST = "analyst"
ADMIN = "admin"
# Apps whose data every role may see.
BROWSED_APPS = {"events", "geo", "dashboards"}
# Apps whose objects analysts may create and change (reports, dashboards).
REPORT_APPS = {"dashboards"}
USER_MANAGEMENT_APP = "auth"


def action_of(permission: Permission) -> str:
    return permission.codename.split("_", 1)[0]


def viewer_may(permission: Permission) -> bool:
    return (
        permission.content_type.app_label in BROWSED_APPS
        and action_of(permission) == "view"
    )


def analyst_may(permission: Permission) -> bool:
    app_label = permission.content_type.app_label
    action = action_of(permission)
    if viewer_may(permission):
        return True
    if app_label in BROWSED_APPS and action == "export":
        return True
    return app_label in REPORT_APPS and action in {"add", "change", "run", "export"}


def admin_may(permission: Permission) -> bool:
    return permission.content_type.app_label != USER_MANAGEMENT_APP


ROLES: dict[str, Callable[[Permission], bool]] = {
    VIEWER: viewer_may,
    ANALYST: analyst_may,
    ADMIN: admin_may,
}


def sync_roles(using: str = "default") -> dict[str, int]:
    """Create the role groups if missing and set their permissions.

    Idempotent; permissions a group should not have are removed, so the
    policy above is the only source of truth. Returns the number of
    permissions per role. A few queries per role.
    """
    permissions = list(
        Permission.objects.using(using).select_related("content_type").all()
    )
    counts = {}
    for name, may in ROLES.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        granted = [permission for permission in permissions if may(permission)]
        group.permissions.set(granted)
        counts[name] = len(granted)
    return counts


def sync_roles_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """Keep the roles in step after ``migrate`` (a ``post_migrate`` receiver).

    Runs once per migrated app, after that app's permissions were created,
    so the last run sees every app's permissions.
    """
    counts = sync_roles(using)
    logger.debug("roles synchronised app=%s counts=%s", sender.label, counts)
