let d = n;
d += n;
console.log(d);
