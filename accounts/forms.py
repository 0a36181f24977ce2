from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import Role, Team, User


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role if r != Role.OWNER], initial=Role.MEMBER)


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]
        labels = {"name": "Team name"}
