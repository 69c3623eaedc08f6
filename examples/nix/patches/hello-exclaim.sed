# Applied to the hello script: greet with emphasis.
s|^cat \(.*\)$|cat \1; echo '!'|
