package io.introducer.client;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The TURN relay and REST credentials a CONNECT success or INTRODUCE carries (PROTOCOL.md section 8):
 * RELAY-ADDRESS, RELAY-USERNAME and RELAY-PASSWORD (unmasked here with K_peer and the transaction id).
 */
record RelayCredentials(InetSocketAddress server, String username, String password) {
  /** RELAY-PASSWORD values longer than this cannot be unmasked (the mask is one HMAC-SHA256). */
  static final int MAX_PASSWORD_BYTES = 32;

  /** The credentials of an authenticated message, or null when it carries none or they are malformed. */
  static RelayCredentials parse(StunMessage m, Wire wire) {
    InetSocketAddress server = m.getXorAddress(StunAttributes.RELAY_ADDRESS);
    String username = m.getString(StunAttributes.RELAY_USERNAME);
    byte[] masked = m.get(StunAttributes.RELAY_PASSWORD);
    if (server == null || server.getPort() == 0 || username == null || username.isEmpty() || masked == null
        || masked.length == 0 || masked.length > MAX_PASSWORD_BYTES) {
      return null;
    }
    byte[] password = wire.unmaskRelayPassword(masked, m.transactionId());
    return new RelayCredentials(server, username, new String(password, StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "RelayCredentials[" + server + " as " + username + ", password=***]";
  }
}
