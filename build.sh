#!/usr/bin/env bash
# Render build: install, collect static files (hashed names for whitenoise), migrate.
set -o errexit
pip install --upgrade pip
pip install -r requirements.txt
python manage.py collectstatic --no-input
python manage.py migrate --no-input
