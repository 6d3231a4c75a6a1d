package keystore

// DecryptPKCS8Bounded is decryptPKCS8 with the caller's iteration bound, for the fuzz test.
var DecryptPKCS8Bounded = decryptPKCS8
