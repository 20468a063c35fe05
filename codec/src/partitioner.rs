//! Kafka's default key partitioner: `toPositive(murmur2(key)) % partitions`.
//!
//! Owns: the murmur2 hash with Kafka's seed and the partition choice for a keyed record, so
//! every Weir SDK and a Java producer send the same key to the same partition. Must not choose
//! partitions for null keys (that is a producer's sticky/round-robin policy, not a hash).

/// Why no partition could be chosen.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
#[error("cannot choose a partition among zero partitions")]
pub struct ZeroPartitions;

/// Kafka's `Utils.murmur2(key)`: MurmurHash2 with seed 0x9747b28c, as a Java `int`.
pub fn murmur2_hash(key: &[u8]) -> i32 {
    murmur2::murmur2(key, murmur2::KAFKA_SEED) as i32
}

/// The partition Kafka's Java producer picks for `key` among `partitions` partitions:
/// `(murmur2(key) & 0x7fffffff) % partitions`.
pub fn partition_for_key(key: &[u8], partitions: u32) -> Result<u32, ZeroPartitions> {
    if partitions == 0 {
        return Err(ZeroPartitions);
    }
    // Java's `Utils.toPositive`: clear the sign bit rather than take an absolute value.
    let positive = (murmur2_hash(key) & 0x7fff_ffff) as u32;
    Ok(positive % partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kafka's `UtilsTest.testMurmur2` vectors.
    const JAVA_UTILS_TEST: [(&str, i32); 6] = [
        ("21", -973_932_308),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        (
            "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58_897_971,
        ),
        ("abc", 479_470_107),
    ];

    /// librdkafka's `unittest_murmur2` (`java_murmur2_results`), checked there against Java.
    const LIBRDKAFKA_TEST: [(&str, u32); 11] = [
        ("kafka", 0xd067cf64),
        ("giberish123456789", 0x8f552b0c),
        ("1234", 0x9fc97b14),
        ("234", 0xe7c009ca),
        ("34", 0x873930da),
        ("4", 0x5a4b5ca1),
        ("PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1c),
        ("reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62b377),
        ("eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4e09e),
        ("AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8b43f),
        ("", 0x106e08d9),
    ];

    #[test]
    fn hash_matches_kafka_java_utils_test() {
        for (key, expected) in JAVA_UTILS_TEST {
            assert_eq!(murmur2_hash(key.as_bytes()), expected, "key {key:?}");
        }
    }

    #[test]
    fn hash_matches_librdkafka_java_results() {
        for (key, expected) in LIBRDKAFKA_TEST {
            assert_eq!(murmur2_hash(key.as_bytes()), expected as i32, "key {key:?}");
        }
    }

    #[test]
    fn partition_clears_the_sign_bit_then_takes_the_remainder() {
        // "foobar" hashes to -790332482; & 0x7fffffff = 1357151166.
        assert_eq!(partition_for_key(b"foobar", 10), Ok(6));
        assert_eq!(partition_for_key(b"foobar", 12), Ok(6));
        // "a-little-bit-longer-string" hashes to -1486304829; & 0x7fffffff = 661178819.
        assert_eq!(partition_for_key(b"a-little-bit-longer-string", 12), Ok(11));
        // "abc" hashes to 479470107, already positive.
        assert_eq!(partition_for_key(b"abc", 10), Ok(7));
        assert_eq!(partition_for_key(b"anything", 1), Ok(0));
    }

    #[test]
    fn keys_land_where_a_kafka_broker_put_them() {
        // Partitions a real Kafka cluster acknowledged for these keys on a 3-partition topic
        // with a Java-compatible murmur2 partitioner.
        let observed = [
            ("alice", 0),
            ("sam", 1),
            ("leo", 2),
            ("maria", 0),
            ("omar", 1),
            ("yuki", 0),
        ];
        for (key, partition) in observed {
            assert_eq!(
                partition_for_key(key.as_bytes(), 3),
                Ok(partition),
                "key {key}"
            );
        }
    }

    #[test]
    fn zero_partitions_is_an_error_not_a_panic() {
        assert_eq!(partition_for_key(b"k", 0), Err(ZeroPartitions));
    }
}
