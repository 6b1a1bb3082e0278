# -*- coding: utf-8 -*-
# Copyright: regcred.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Batches of the event source ``regcred.k8s.k8s_watch``: Namespace events of one type that
arrive close together become one event, so that a burst of new namespaces is served by one
playbook run instead of one run each. No I/O here: the caller passes the time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The kinds whose events are batched. A ServiceAccount's reaction names the ServiceAccount, so
# its events stay one by one (and they are rare next to a burst of namespaces).
BATCHED_KINDS = ("Namespace",)


def batch(events):
    """One event for ``events`` (of one kind and type): the first one's fields, and ``batch``, the
    list of all of them with the usual fields each."""
    return dict(events[0], batch=[dict(event) for event in events])


class Batcher:
    """With ``window`` seconds above 0, a Namespace event after a quiet spell goes at once (as a
    batch of one); the events of the same type that follow while the window after it is open are
    held, and go as one batch when it closes, which opens the next window. With ``window`` 0
    every event goes at once, as it is."""

    def __init__(self, window):
        self.window = window
        self.closes = {}  # (kind, type): when the window after its last emitted event closes
        self.held = {}  # (kind, type): the events held until then

    def add(self, event, now):
        """The events to emit at ``now`` for the new ``event``: it alone, or none (held)."""
        if self.window <= 0 or event["kind"] not in BATCHED_KINDS:
            return [event]
        key = (event["kind"], event["type"])
        if key in self.held or now < self.closes.get(key, now):
            self.held.setdefault(key, []).append(event)
            return []
        self.closes[key] = now + self.window
        return [batch([event])]

    def due(self, now):
        """The batches whose window has closed at ``now``, oldest first; each opens a new window."""
        keys = sorted((key for key in self.held if self.closes[key] <= now), key=lambda key: self.closes[key])
        for key in keys:
            self.closes[key] = now + self.window
        return [batch(self.held.pop(key)) for key in keys]

    def next_due(self):
        """When the next held batch is due, or None when nothing is held."""
        return min((self.closes[key] for key in self.held), default=None)
