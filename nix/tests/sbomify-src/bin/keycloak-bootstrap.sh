#!/bin/sh
# Fixture: stands in for the upstream Keycloak bootstrap script.
echo bootstrap
