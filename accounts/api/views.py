from __future__ import annotations

from rest_framework import serializers
from rest_framework.generics import RetrieveAPIView

from accounts.services import profile_get


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    timezone = serializers.CharField()


class MeView(RetrieveAPIView):
    """The authenticated user: who the session or token belongs to."""

    serializer_class = MeSerializer

    def get_object(self):
        user = self.request.user
        return {"id": user.pk, "email": user.email, "timezone": profile_get(user=user).timezone}
