package io.introducer.rendezvous;

import java.net.InetSocketAddress;

/** Where the protocol logic hands datagrams to send; the verticle implements it with its UDP socket. */
@FunctionalInterface
interface Outbound {
  void send(byte[] datagram, InetSocketAddress to);
}
