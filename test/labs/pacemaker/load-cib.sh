#!/bin/bash
# Loads the lab's cluster configuration through node 1: stonith on, fencing action "off" (a fenced node stays off
# until the test powers it on through its BMC, as an operator would), one fence_ipmilan device per node with a ban
# from running on its own target, and the remote node remote1 with its own device when it was started.
# Usage: load-cib.sh     (the password comes from $LAB/bmc/password)
set -eu
: "${LAB:?set LAB}"
HERE=$(cd "$(dirname "$0")" && pwd)
PW=$(cat "$LAB/bmc/password")
dev() { # dev ID TARGET PORT
  cat <<XML
  <primitive id="$1" class="stonith" type="fence_ipmilan">
    <instance_attributes id="$1-ia">
      <nvpair id="$1-ip" name="ip" value="10.99.0.254"/>
      <nvpair id="$1-port" name="ipport" value="$3"/>
      <nvpair id="$1-user" name="username" value="admin"/>
      <nvpair id="$1-pw" name="password" value="$PW"/>
      <nvpair id="$1-lanplus" name="lanplus" value="1"/>
      <nvpair id="$1-cipher" name="cipher" value="3"/>
      <nvpair id="$1-hl" name="pcmk_host_list" value="$2"/>
    </instance_attributes>
    <operations><op id="$1-mon" name="monitor" interval="60s"/></operations>
  </primitive>
XML
}
# The remote node (when $LAB/r1 exists, i.e. remote-start.sh ran): its connection resource and its fence device.
remote() {
  [ -d "$LAB/r1" ] || return 0
  cat <<XML
  <primitive id="remote1" class="ocf" provider="pacemaker" type="remote">
    <instance_attributes id="remote1-ia">
      <nvpair id="remote1-server" name="server" value="10.99.0.11"/>
      <nvpair id="remote1-port" name="port" value="3121"/>
    </instance_attributes>
    <operations><op id="remote1-monitor" name="monitor" interval="5s" timeout="15s"/></operations>
  </primitive>
XML
  dev fence-remote1 remote1 6234
}
{ echo '<resources>'; for i in 1 2 3; do dev "fence-node$i" "node$i" $((6230 + i)); done; remote; echo '</resources>'; } >"$LAB/cib-resources.xml"
{ echo '<constraints>'; for i in 1 2 3; do echo "  <rsc_location id=\"l-fence-node$i\" rsc=\"fence-node$i\" node=\"node$i\" score=\"-INFINITY\"/>"; done; echo '</constraints>'; } >"$LAB/cib-constraints.xml"
on() { "$HERE/on-node.sh" 1 "$@"; }
on crm_attribute --type crm_config --name stonith-enabled --update true
on crm_attribute --type crm_config --name stonith-action --update off
# A failed fencing is retried at once rather than after many transitions, and never given up on in a test's time.
on crm_attribute --type crm_config --name stonith-max-attempts --update 1000
on cibadmin --replace --scope resources --xml-file "$LAB/cib-resources.xml"
on cibadmin --replace --scope constraints --xml-file "$LAB/cib-constraints.xml"
