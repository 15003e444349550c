from __future__ import annotations

from itertools import groupby

from django import forms

from accounts.models import Profile, timezone_names


def timezone_choices() -> list[tuple[str, list[tuple[str, str]]] | tuple[str, str]]:
    """UTC first, then the zones grouped by region ("Europe", "America", ...) for the <select>."""
    names = sorted(tz for tz in timezone_names() if tz != "UTC")
    grouped: list[tuple[str, list[tuple[str, str]]] | tuple[str, str]] = [("UTC", "UTC")]
    for region, zones in groupby(names, key=lambda tz: tz.split("/", 1)[0]):
        grouped.append((region, [(tz, tz.split("/", 1)[1].replace("_", " ")) for tz in zones]))
    return grouped


class ProfileForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices,
        help_text="Times are stored in UTC and shown to you in this zone.",
    )

    class Meta:
        model = Profile
        fields = ["timezone"]
