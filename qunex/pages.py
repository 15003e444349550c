"""A page for an area whose data has not arrived yet: it says what will be there."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView


class EmptyRoomView(TemplateView):
    template_name = "empty_room.html"
    title = ""
    lead = ""
    points: tuple[str, ...] = ()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=self.title, lead=self.lead, points=self.points, **kwargs
        )


class PrivateEmptyRoomView(LoginRequiredMixin, EmptyRoomView):
    pass
