"""Parallel items (U3 clearance, U1 clearance, U2 services restored): signed in any order, the next stage
opens exactly when the last item clears, never before. Each hypothesis example runs in a savepoint that
is rolled back, so every example starts from the same request at the parallel stage."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registrar.approvals.chains import get_chain
from registrar.approvals.models import SignOff
from registrar.notifications.models import Notification
from statuschange.models import U1, U2, U3
from tests.statuschange.helpers import open_request, pass_stage, sign, signer

PARALLEL = [(U3.code, "clearance"), (U1.code, "clearance"), (U2.code, "services_restored")]


@pytest.mark.parametrize(("code", "stage"), PARALLEL)
def test_items_in_any_order_open_the_next_stage_only_at_the_last(sc_world, code, stage):
    w = sc_world
    chain = get_chain(code)
    req = open_request(w, code)
    while req.state != stage:
        req = pass_stage(w, req)
    roles = chain.signers(stage)
    assert len(roles) > 1
    nxt = chain.next_stage_code(stage)
    next_signers = {signer(w, r).pk for r in chain.signers(nxt)} if nxt in chain.stage_codes else set()
    seen_orders = set()

    @given(order=st.permutations(roles))
    @settings(deadline=None, max_examples=15, database=None, suppress_health_check=[HealthCheck.too_slow])
    def run(order):
        seen_orders.add(tuple(order))
        with transaction.atomic():
            r = type(req).objects.get(pk=req.pk)
            mark = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            for i, role in enumerate(order):
                r = sign(w, r, role)
                if i < len(order) - 1:
                    assert r.state == stage, f"{stage} passed after {order[: i + 1]}"
                    assert sorted(r.pending_roles()) == sorted(order[i + 1 :])
                    told = set(
                        Notification.objects.filter(
                            pk__gt=mark, user_id__in=next_signers, message__contains="#"
                        ).values_list("user_id", flat=True)
                    )
                    assert not told, "the next stage's signers were told before the last item cleared"
            assert r.state == nxt
            told = set(
                Notification.objects.filter(pk__gt=mark, user_id__in=next_signers).values_list("user_id", flat=True)
            )
            assert told == next_signers - {signer(w, order[-1]).pk}
            assert r.stage_entered_at is not None
            items = SignOff.objects.for_object(r).filter(stage=stage, decision="approve", round=r.round)
            assert sorted(items.values_list("role", flat=True)) == sorted(roles)
            assert [s.role for s in items.order_by("id")] == list(order)
            if code == U3.code:
                assert (r.arrears, str(r.refund)) == (0, "350.00")  # finance's own item form
            transaction.set_rollback(True)

    run()
    assert len(seen_orders) > 1
    req.refresh_from_db()
    assert req.state == stage  # every example was rolled back
