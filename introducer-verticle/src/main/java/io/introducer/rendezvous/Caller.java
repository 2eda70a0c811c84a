package io.introducer.rendezvous;

import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * The authenticated sender of a request: its ids, the key it signed with, where it was seen, and when.
 *
 * @param tokenExpiry the TOKEN-EXPIRY (Unix seconds) of the peer token it signed with, or 0 when it signed with its
 *     peer key (docs/PROTOCOL.md section 3)
 */
record Caller(String appId, String peerId, byte[] key, InetSocketAddress source, Instant now, long tokenExpiry) {}
