from django import forms

from accounts.models import Profile


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["timezone"]
        help_texts = {"timezone": "Times are stored in UTC and shown to you in this zone."}
