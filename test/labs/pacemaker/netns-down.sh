#!/bin/bash
# Deletes the lab's namespaces (the veth pairs go with them). Idempotent.
: "${NS:?set NS}"
for n in r1 n1 n2 n3 sw; do ip netns del "$NS-$n" 2>/dev/null; done
true
