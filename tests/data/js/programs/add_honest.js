let x = 5;
let y = 3;
console.log(x + y);
