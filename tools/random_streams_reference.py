#!/usr/bin/env python3
"""Independent reference for MLNetMerge's one seed (docs/seeds.md): stream keys, xoshiro256** draws,
Lemire bounded integers and counter-based uniforms, printed for the golden values of RandomStreamsTests."""
M = (1 << 64) - 1
PHI = 0x9E3779B97F4A7C15

def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)

def fnv(h, s):
    for ch in (ord(c) for c in s):  # UTF-16 code units for the BMP, as C# iterates a string
        h ^= ch
        h = (h * 1099511628211) & M
    return h

def key(seed, purpose, index=0, name=""):
    h = fnv(14695981039346656037, purpose)
    h ^= 0xFF
    h = (h * 1099511628211) & M
    h = fnv(h, name)
    return mix(mix((seed + PHI) & M) ^ mix(h) ^ mix((index + 0x632BE59BD9B4E019) & M))

class Xoshiro:
    def __init__(self, k):
        self.s = []
        x = k
        for _ in range(4):
            x = (x + PHI) & M
            self.s.append(mix(x))
    def next(self):
        s0, s1, s2, s3 = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M
        result = (rotl((s1 * 5) & M, 7) * 9) & M
        t = (s1 << 17) & M
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result
    def next_int(self, bound):
        m = self.next() * bound
        high, low = m >> 64, m & M
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                m = self.next() * bound
                high, low = m >> 64, m & M
        return high
    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.next_int(i + 1)
            items[i], items[j] = items[j], items[i]
        return items

def uniform(k, index):
    return (mix((k + index * PHI) & M) >> 40) / float(1 << 24)

if __name__ == "__main__":
    for args in [(0, "dare.drop", 0, "w"), (0, "dare.drop", 1, "w"), (M, "knn.anchors", 3, "mnist"), (42, "splits.stratified", 7, "")]:
        print(args, hex(key(*args)))
    r = Xoshiro(key(42, "splits.stratified", 7))
    print("first three 64-bit draws", [hex(r.next()) for _ in range(3)])
    r = Xoshiro(key(42, "splits.stratified", 7))
    print("NextInt(10) x8", [r.next_int(10) for _ in range(8)])
    print("Shuffle(0..9)", Xoshiro(key(1, "batches.pass0", 2)).shuffle(list(range(10))))
    k = key(0, "dare.drop", 0, "w")
    print("Uniform(key, 0..3)", [uniform(k, i) for i in range(4)])
