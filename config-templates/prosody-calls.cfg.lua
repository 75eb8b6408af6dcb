-- Voice and video calls (XEP-0215): the apps ask the server for its STUN/TURN service and get
-- credentials valid for a day, made from the secret coturn shares. The secret itself arrives over
-- SSH from the provisioning step, in {{ SECRETS_DIR }}.
turn_external_host = "{{ TURN_HOST }}"
turn_external_port = {{ TURN_PORT }}
turn_external_tcp = true
turn_external_tls_port = {{ TURNS_PORT }}
