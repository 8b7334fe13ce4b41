console.log(n % 2 === 1 ? 'odd' : 'even');
