package io.introducer.rendezvous;

import java.net.InetSocketAddress;
import java.time.Instant;

/** The authenticated sender of a request: its ids, its peer key, where it was seen, and when. */
record Caller(String appId, String peerId, byte[] key, InetSocketAddress source, Instant now) {}
