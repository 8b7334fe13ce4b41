const total = a + b;
console.log(total);
