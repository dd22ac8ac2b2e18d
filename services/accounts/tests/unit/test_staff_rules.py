"""The shop's team: who is seeded where, and which addresses a member may have."""

import pytest
from accounts.domain.staff import DEV_STAFF_PASSWORD, dev_staff_to_seed, normalise_staff_email
from jg_messaging import Environment

pytestmark = pytest.mark.unit


def test_the_development_members_exist_in_development_only() -> None:
    seeded = dev_staff_to_seed(Environment.DEVELOPMENT)
    assert {(m.email, m.name, m.role.value) for m in seeded} == {
        ("manager@japangoodz.test", "Claire Manager", "manager"),
        ("agent@japangoodz.test", "Hugo Agent", "agent"),
    }
    assert dev_staff_to_seed(Environment.TEST) == ()
    assert dev_staff_to_seed(Environment.PRODUCTION) == ()
    assert DEV_STAFF_PASSWORD == "dev-only-staff-password"


def test_staff_addresses_are_trimmed_lower_cased_and_may_use_the_test_domain() -> None:
    assert normalise_staff_email("  Claire@JapanGoodz.TEST ") == "claire@japangoodz.test"
    assert normalise_staff_email("hugo@japangoodz.fr") == "hugo@japangoodz.fr"
    with pytest.raises(ValueError, match="pas valide"):
        normalise_staff_email("not an address")
