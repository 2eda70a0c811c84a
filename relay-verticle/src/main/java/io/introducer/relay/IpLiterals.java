package io.introducer.relay;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** IP address literals parsed without ever consulting DNS. */
final class IpLiterals {
  private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]+");

  private IpLiterals() {}

  /** The address bytes (4 or 16) of a literal, or null when {@code s} is not one. */
  static byte[] parse(String s) {
    InetAddress a = address(s);
    return a == null ? null : a.getAddress();
  }

  /** The address of a literal, or null. Brackets around IPv6 are accepted. */
  static InetAddress address(String s) {
    if (s == null) {
      return null;
    }
    String h = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
    boolean v4 = IPV4.matcher(h).matches();
    boolean v6 = !v4 && h.indexOf(':') >= 0 && IPV6.matcher(h).matches();
    if (!v4 && !v6) {
      return null;
    }
    try {
      return InetAddress.getByName(h); // a literal: parsed, never looked up
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
