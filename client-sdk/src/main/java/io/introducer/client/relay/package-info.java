/**
 * The SDK's TURN client (RFC 8656 over UDP, docs/PROTOCOL.md section 8). {@link
 * io.introducer.client.relay.TurnClient} keeps one allocation on one relay over a socket it shares with the
 * rest of the client's traffic; {@link io.introducer.client.relay.RelayPool} holds a client's allocations
 * (at most one per relay, shared by its sessions) and names the peers reached through them with tunnel
 * addresses. Games do not use this package directly: they choose a
 * {@link io.introducer.client.ConnectPolicy} and see {@link io.introducer.client.Path#RELAY} on their
 * channels. It is public so that the client package can use it and so that tools can reuse the TURN client.
 */
package io.introducer.client.relay;
