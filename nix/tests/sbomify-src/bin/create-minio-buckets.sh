#!/bin/sh
# Fixture: the shape of the upstream script (mc at the Debian path).
/usr/bin/mc alias set local "$AWS_ENDPOINT_URL_S3" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
/usr/bin/mc mb --ignore-existing local/sbomify-media local/sbomify-sboms
