package store

// TempStoreName is tempStoreName for the tests outside the package (package store_test),
// which run on both backends too.
var TempStoreName = tempStoreName
