"""Batch commands act on an assessment on behalf of its owner, with the owner's permissions."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from assessments import selectors
from tra.http.auth import Actor, actor_for


def owner_actor(assessment_id: str) -> Actor:
    """The assessment's owner as an Actor; a CommandError naming what is missing otherwise."""
    found = selectors.assessment_current(assessment_id)
    if found is None:
        raise CommandError(f"assessment {assessment_id} not found")
    owner = get_user_model().objects.filter(pk=found.owner_id).first()
    if owner is None:
        raise CommandError(f"the owner ({found.owner_id}) of assessment {assessment_id} is not a user")
    return actor_for(owner)
