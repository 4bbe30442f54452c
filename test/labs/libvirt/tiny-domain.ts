// The smallest QEMU domain that runs here: 32 MiB, no disk, no network, TCG (type='qemu', so no /dev/kvm needed).
// Its QEMU process never boots an OS, which is all lifecycle tests need.

export interface TinyDomainOptions {
  name: string;
  uuid: string;
  /** Adds a guest-agent channel (virtio-serial + unix socket), for the introspective monitor. */
  guestAgentChannel?: boolean;
}

export function tinyDomainXml(o: TinyDomainOptions): string {
  const agent = o.guestAgentChannel
    ? `<controller type='virtio-serial' index='0'/>
    <channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>`
    : '';
  return `<domain type='qemu'>
  <name>${o.name}</name>
  <uuid>${o.uuid}</uuid>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    ${agent}
  </devices>
</domain>`;
}
