package io.introducer.client.testing;

/**
 * Packet counters of one {@link SimulatedNat}.
 *
 * @param outbound packets sent out to the real network through a mapping
 * @param inbound packets from the real network delivered to a host
 * @param lan packets delivered between two hosts behind the NAT by private address
 * @param hairpinned packets looped back through the NAT's public address
 * @param filtered inbound packets refused by the filtering behaviour
 * @param lost packets dropped by the loss probability
 * @param droppedByHook inbound packets dropped by {@link NatBehavior#dropFirstInbound()}
 * @param unroutable packets with nowhere to go: an unknown private address, a non-loopback destination,
 *     a hairpin when hairpinning is off, a public port without a mapping
 * @param linkDown packets dropped while the NAT's link was down
 * @param mappingsCreated external mappings created
 * @param mappingsExpired mappings that timed out
 */
public record NatStats(long outbound, long inbound, long lan, long hairpinned, long filtered, long lost,
    long droppedByHook, long unroutable, long linkDown, long mappingsCreated, long mappingsExpired) {}
