package dev.batchserve.transforms.features;

import java.nio.charset.StandardCharsets;

/**
 * The hash behind hashed buckets, OOV buckets and crosses: 64-bit FNV-1a over the UTF-8 bytes of the
 * text, bucket = the hash read as an unsigned number, modulo the bucket count.
 *
 * <p>Why not {@link String#hashCode()}: its value is not specified across JVMs in spirit and it is
 * trivially colliding; training code in another language must be able to reproduce buckets exactly,
 * and FNV-1a (offset basis {@code 0xcbf29ce484222325}, prime {@code 0x100000001b3}) is a two-line
 * algorithm available everywhere.
 *
 * <pre>{@code
 * int bucket = StableHash.bucket("DE", 16);
 * }</pre>
 */
final class StableHash {
  private static final long OFFSET_BASIS = 0xcbf29ce484222325L;
  private static final long PRIME = 0x100000001b3L;

  private StableHash() {}

  /** FNV-1a 64 of the UTF-8 bytes of {@code text}. */
  static long fnv1a64(String text) {
    long h = OFFSET_BASIS;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      h ^= (b & 0xff);
      h *= PRIME;
    }
    return h;
  }

  /** The bucket in {@code [0, buckets)} for {@code text}. */
  static int bucket(String text, int buckets) {
    return (int) Long.remainderUnsigned(fnv1a64(text), buckets);
  }
}
