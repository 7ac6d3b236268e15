package seal

// SealLines exposes sealLines to the external tests.
var SealLines = sealLines
