let word = 'odd';
if (n % 2 === 0) {
  word = 'even';
}
console.log(word);
