"""oms/order: the intrusive list of working orders (`OpenOrders`)."""

from __future__ import annotations

import random

from fixrouter.oms import Order
from fixrouter.oms.order import OpenOrders

from .conftest import new_order


def orders(n: int) -> list[Order]:
    return [Order(new_order(id=f"o{i}"), "s1", f"C{i}") for i in range(n)]


def test_iterates_in_the_order_added_and_unlinks_anywhere() -> None:
    a, b, c, d = orders(4)
    open_ = OpenOrders()
    for o in (a, b, c, d):
        open_.add(o)
    assert list(open_) == [a, b, c, d] and len(open_) == 4
    open_.discard(b)  # middle
    assert list(open_) == [a, c, d]
    open_.discard(a)  # head
    open_.discard(d)  # tail
    assert list(open_) == [c] and len(open_) == 1
    assert a not in open_ and c in open_
    assert (a.open_list, a.open_prev, a.open_next) == (None, None, None)
    open_.discard(c)
    assert list(open_) == [] and len(open_) == 0
    assert (open_.head, open_.tail) == (None, None)


def test_add_of_a_member_keeps_its_place_and_discard_of_a_stranger_does_nothing() -> None:
    a, b, c = orders(3)
    open_ = OpenOrders()
    open_.add(a)
    open_.add(b)
    open_.add(a)
    assert list(open_) == [a, b] and len(open_) == 2
    open_.discard(c)
    open_.discard(c)
    assert list(open_) == [a, b] and len(open_) == 2
    assert "not an order" not in open_


def test_an_order_added_again_goes_last() -> None:
    a, b, c = orders(3)
    open_ = OpenOrders()
    for o in (a, b, c):
        open_.add(o)
    open_.discard(a)
    open_.add(a)
    assert list(open_) == [b, c, a]


def test_iteration_survives_removing_the_current_order() -> None:
    all_ = orders(5)
    open_ = OpenOrders()
    for o in all_:
        open_.add(o)
    seen = []
    for o in open_:
        seen.append(o)
        if int(o.id[1:]) % 2 == 0:
            open_.discard(o)
    assert seen == all_
    assert list(open_) == [all_[1], all_[3]]


def test_an_order_of_another_list_is_taken_over() -> None:
    # A read-back's scratch book links the order first; the book then takes it.
    a, b = orders(2)
    scratch, book = OpenOrders(), OpenOrders()
    scratch.add(a)
    book.add(b)
    book.add(a)
    assert list(book) == [b, a] and a in book and a not in scratch
    assert list(scratch) == [] and len(scratch) == 0  # nothing left pointing at `a`
    book.discard(a)
    assert list(book) == [b] and len(book) == 1


def test_matches_an_insertion_ordered_dict_under_random_changes() -> None:
    rng = random.Random(7)
    pool = orders(40)
    open_ = OpenOrders()
    model: dict[Order, None] = {}
    for _ in range(5000):
        o = rng.choice(pool)
        if rng.random() < 0.5:
            open_.add(o)
            model[o] = None
        else:
            open_.discard(o)
            model.pop(o, None)
        assert len(open_) == len(model)
    assert list(open_) == list(model)
    assert all((o in open_) == (o in model) for o in pool)
    # The links agree backwards too.
    back = []
    o = open_.tail
    while o is not None:
        back.append(o)
        o = o.open_prev
    assert back == list(reversed(model))
