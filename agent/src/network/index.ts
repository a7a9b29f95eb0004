// The network manager: interfaces, addresses, routes, neighbours and iptables of the guest.
export { type CallOptions, type NetworkConfig, NetworkManager } from "./manager.js";
